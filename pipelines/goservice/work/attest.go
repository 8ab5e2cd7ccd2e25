package work

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/attest"
	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// Attest implements protocol.Executor: SLSA provenance for the index, and
// the SBOMs: each platform's for its manifest, and the first platform's for
// the index too, so `cosign verify-attestation IMAGE@INDEX` finds one.
func (Executor) Attest(ctx context.Context, req protocol.AttestRequest) (*protocol.Result[protocol.AttestValue], error) {
	cfg, pub, img, docs, out := req.Config, req.Publish, req.Build.Value, req.SBOM.Value, req.OutDir
	ref, err := name.NewDigest(pub.Ref)
	if err != nil {
		return nil, err
	}
	idx, err := build.ReadLayout(filepath.Join(req.Build.Dir, goservice.ImageLayoutDir))
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	indexDigest, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return nil, err
	}
	repo := ref.Context().Name()
	manifests := map[string]v1.Hash{}
	subjects := []attest.Subject{{Name: repo, Digest: indexDigest}}
	for _, d := range im.Manifests {
		if d.Platform != nil {
			manifests[d.Platform.String()] = d.Digest
			subjects = append(subjects, attest.Subject{Name: repo, Digest: d.Digest})
		}
	}
	s, err := signer(ctx, cfg.Sign, req.Secrets)
	if err != nil {
		return nil, err
	}
	prov, err := attest.Provenance(subjects, provenanceInput(cfg, img, repo))
	if err != nil {
		return nil, err
	}
	v := goservice.AttestValue{Ref: pub.Ref}
	add := func(a attest.Attestation) {
		v.Attestations = append(v.Attestations, runner.Attestation{PredicateType: a.PredicateType, Subject: a.Subject, Digest: a.Digest})
	}
	a, err := attest.Attach(ctx, ref, prov, s)
	if err != nil {
		return nil, err
	}
	add(a)
	first := ""
	if len(img.Platforms) > 0 {
		first = img.Platforms[0]
	}
	for _, d := range docs.Documents {
		digest, ok := manifests[d.Subject]
		if !ok {
			continue // the source SBOMs describe no image
		}
		body, err := os.ReadFile(filepath.Join(req.SBOM.Dir, d.File))
		if err != nil {
			return nil, err
		}
		targets := []v1.Hash{digest}
		if d.Subject == first {
			targets = append(targets, indexDigest)
		}
		for _, t := range targets {
			st, err := attest.Predicate([]attest.Subject{{Name: repo, Digest: t}}, d.PredicateType, json.RawMessage(body))
			if err != nil {
				return nil, err
			}
			a, err := attest.Attach(ctx, ref.Context().Digest(t.String()), st, s)
			if err != nil {
				return nil, err
			}
			add(a)
		}
	}
	if err := writePublicKey(s, out); err != nil {
		return nil, err
	}
	return &protocol.Result[protocol.AttestValue]{Value: v, Summary: fmt.Sprintf("%d attestations (SLSA provenance, SPDX, CycloneDX)", len(v.Attestations)),
		Export: []string{goservice.PublicKeyFile}}, nil
}

func provenanceInput(cfg goservice.AttestConfig, img goservice.ImageValue, repo string) attest.ProvenanceInput {
	rc := cfg.Context
	// The signed statement is public and permanent: whatever the caller
	// passed, no URL in it keeps its credentials.
	rc.Repo = runner.RedactURL(rc.Repo)
	goEnv := make([]string, len(cfg.GoEnv))
	for i, kv := range cfg.GoEnv {
		goEnv[i] = runner.RedactURL(kv)
	}
	in := attest.ProvenanceInput{
		BuilderID:      cfg.BuilderID,
		BuilderVersion: map[string]string{"paved": cfg.PavedVersion},
		BuildType:      "https://github.com/pavedhq/paved/buildtypes/" + cfg.Pipeline + "@v1",
		External: map[string]any{
			"pipeline":  cfg.Pipeline,
			"source":    map[string]any{"repository": rc.Repo, "ref": rc.Ref},
			"platforms": cfg.Platforms,
			"main":      cfg.Main,
			"image":     repo,
		},
		Internal:     map[string]any{"environment": rc.Environment, "goEnv": goEnv},
		InvocationID: cfg.RunID,
		StartedOn:    cfg.Started,
		FinishedOn:   time.Now().UTC(),
	}
	if rc.Commit != "" {
		uri := "git+" + rc.Repo
		if rc.Ref != "" {
			uri += "@" + rc.Ref
		}
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "source", URI: uri, Digest: map[string]string{"gitCommit": rc.Commit}})
	}
	if h, err := v1.NewHash(img.BaseDigest); err == nil {
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "base", URI: img.Base, Digest: map[string]string{h.Algorithm: h.Hex}})
	}
	if cfg.GoVersion != "" {
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "toolchain", URI: "pkg:golang/toolchain@" + cfg.GoVersion})
	}
	return in
}
