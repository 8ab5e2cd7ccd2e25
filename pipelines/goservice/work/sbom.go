package work

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/sbom"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/protocol"
	"golang.org/x/sync/errgroup"
)

var sbomFormats = []sbom.Format{sbom.SPDXJSON, sbom.CycloneDXJSON}

// SBOM implements protocol.Executor.
func (Executor) SBOM(ctx context.Context, req protocol.SBOMRequest) (*protocol.Result[protocol.SBOMValue], error) {
	cfg, out := req.Config, req.OutDir
	idx, err := build.ReadLayout(filepath.Join(req.Build.Dir, goservice.ImageLayoutDir))
	if err != nil {
		return nil, err
	}
	var docs, src []sbom.Document
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		docs, err = sbom.Index(gctx, idx, cfg.Name, out, sbomFormats...)
		return err
	})
	g.Go(func() (err error) {
		src, err = sbom.SourceAt(gctx, cfg.Dir, out, cfg.Created, sbomFormats...)
		return err
	})
	if err := g.Wait(); err != nil {
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
	return &protocol.Result[protocol.SBOMValue]{Value: v, Summary: fmt.Sprintf("%d documents (SPDX, CycloneDX)", len(v.Documents)), Export: export}, nil
}
