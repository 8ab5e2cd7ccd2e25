package goservice

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/sbom"
	"github.com/pavedhq/paved/runner"
)

// SBOMValue is the sbom step's result.
type SBOMValue struct {
	Documents []SBOMDocument `json:"documents"`
}

// SBOMDocument is one SBOM file in the step's directory.
type SBOMDocument struct {
	Format        string `json:"format"`
	Subject       string `json:"subject"` // a platform, or "source"
	File          string `json:"file"`    // relative to the step's directory
	Digest        string `json:"digest"`
	PredicateType string `json:"predicateType"`
}

var sbomFormats = []sbom.Format{sbom.SPDXJSON, sbom.CycloneDXJSON}

// sbomStep describes the built image (every platform) and the source.
type sbomStep struct {
	dir  string
	name string // the image's repository, named in the documents
}

var _ runner.Keyed = (*sbomStep)(nil)

func (s *sbomStep) Name() string { return "sbom" }

func (s *sbomStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	var img ImageValue
	if err := in.Deps["build"].Decode(&img); err != nil {
		return "", err
	}
	k, err := sourceKey(ctx, "sbom/v1", s.dir)
	if err != nil {
		return "", err
	}
	return k.String("image", img.Digest).String("name", s.name).String("syft", moduleVersion("github.com/anchore/syft")).Sum(), nil
}

func (s *sbomStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	idx, err := build.ReadLayout(filepath.Join(in.Deps["build"].Dir, imageLayoutDir))
	if err != nil {
		return nil, err
	}
	docs, err := sbom.Index(ctx, idx, s.name, in.OutDir, sbomFormats...)
	if err != nil {
		return nil, err
	}
	src, err := sbom.Source(ctx, s.dir, in.OutDir, sbomFormats...)
	if err != nil {
		return nil, err
	}
	var v SBOMValue
	var export []string
	for _, d := range append(docs, src...) {
		rel, err := filepath.Rel(in.OutDir, d.Path)
		if err != nil {
			return nil, err
		}
		v.Documents = append(v.Documents, SBOMDocument{Format: string(d.Format), Subject: d.Subject, File: rel,
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
