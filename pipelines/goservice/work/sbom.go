package work

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/sbom"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

var sbomFormats = []sbom.Format{sbom.SPDXJSON, sbom.CycloneDXJSON}

func sbomStep(ctx context.Context, raw json.RawMessage, deps map[string]goservice.WorkDependency, out string) (*runner.Result, error) {
	cfg, err := decode[goservice.SBOMConfig](raw)
	if err != nil {
		return nil, err
	}
	idx, err := build.ReadLayout(filepath.Join(deps["build"].Dir, goservice.ImageLayoutDir))
	if err != nil {
		return nil, err
	}
	docs, err := sbom.Index(ctx, idx, cfg.Name, out, sbomFormats...)
	if err != nil {
		return nil, err
	}
	src, err := sbom.SourceAt(ctx, cfg.Dir, out, cfg.Created, sbomFormats...)
	if err != nil {
		return nil, err
	}
	var v goservice.SBOMValue
	var export []string
	for _, d := range append(docs, src...) {
		rel, err := filepath.Rel(out, d.Path)
		if err != nil {
			return nil, err
		}
		v.Documents = append(v.Documents, goservice.SBOMDocument{Format: string(d.Format), Subject: d.Subject, File: rel,
			Digest: d.Digest.String(), PredicateType: d.Format.PredicateType()})
		export = append(export, rel)
	}
	r, err := runner.NewResult(v, fmt.Sprintf("%d documents (SPDX, CycloneDX)", len(v.Documents)))
	if err != nil {
		return nil, err
	}
	r.Export = export
	return r, nil
}
