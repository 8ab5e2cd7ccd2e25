package goservice

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
	"github.com/pavedhq/paved/modules/sign"
	"github.com/pavedhq/paved/runner"
)

// AttestValue is the attest step's result.
type AttestValue struct {
	Ref          string               `json:"ref"`
	Attestations []attest.Attestation `json:"attestations"`
}

// provenanceFacts are what the run knows about how the image was made,
// gathered when the run is planned.
type provenanceFacts struct {
	Pipeline  string
	RunID     string
	Started   time.Time
	Context   runner.RunContext
	Platforms []string
	Main      string
}

// attestStep attaches SLSA provenance and the SBOMs as signed in-toto
// attestations: provenance for the index, each platform's SBOMs for its
// manifest, and the first platform's SBOMs for the index too.
type attestStep struct {
	signer *signerOnce
	facts  provenanceFacts
}

var (
	_ runner.Keyed       = (*attestStep)(nil)
	_ runner.Revalidator = (*attestStep)(nil)
)

func (s *attestStep) Name() string { return "attest" }

func (s *attestStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	id, ok := s.signer.identity()
	if !ok {
		return "", nil
	}
	var pub PublishValue
	var docs SBOMValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return "", err
	}
	if err := in.Deps["sbom"].Decode(&docs); err != nil {
		return "", err
	}
	return runner.NewKey().String("step", "attest/v1").String("ref", pub.Ref).String("signer", id).
		JSON("sbom", docs).JSON("source", s.facts.Context.Commit+" "+s.facts.Context.Repo).Sum(), nil
}

// Revalidate checks the registry still holds provenance signed by this key.
func (s *attestStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v AttestValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	ref, err := name.NewDigest(v.Ref)
	if err != nil {
		return false, nil
	}
	_, err = attest.Verify(ctx, ref, attest.SLSAProvenance, sign.Policy{Key: filepath.Join(r.Dir, publicKeyFile)})
	return err == nil, nil
}

func (s *attestStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	var pub PublishValue
	var img ImageValue
	var docs SBOMValue
	for dep, v := range map[string]any{"publish": &pub, "build": &img, "sbom": &docs} {
		if err := in.Deps[dep].Decode(v); err != nil {
			return nil, err
		}
	}
	ref, err := name.NewDigest(pub.Ref)
	if err != nil {
		return nil, err
	}
	idx, err := build.ReadLayout(filepath.Join(in.Deps["build"].Dir, imageLayoutDir))
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	manifests := map[string]v1.Hash{}
	subjects := []attest.Subject{{Name: ref.Context().Name(), Digest: mustHash(ref.DigestStr())}}
	for _, d := range im.Manifests {
		if d.Platform != nil {
			manifests[d.Platform.String()] = d.Digest
			subjects = append(subjects, attest.Subject{Name: ref.Context().Name(), Digest: d.Digest})
		}
	}
	signer, err := s.signer.get(ctx)
	if err != nil {
		return nil, err
	}
	prov, err := attest.Provenance(subjects, s.provenanceInput(img, pub))
	if err != nil {
		return nil, err
	}
	var out AttestValue
	out.Ref = pub.Ref
	a, err := attest.Attach(ctx, ref, prov, signer)
	if err != nil {
		return nil, err
	}
	out.Attestations = append(out.Attestations, a)

	first := ""
	if len(img.Platforms) > 0 {
		first = img.Platforms[0]
	}
	for _, d := range docs.Documents {
		digest, ok := manifests[d.Subject]
		if !ok {
			continue // the source SBOMs describe no image
		}
		body, err := os.ReadFile(filepath.Join(in.Deps["sbom"].Dir, d.File))
		if err != nil {
			return nil, err
		}
		targets := []name.Digest{ref.Context().Digest(digest.String())}
		if d.Subject == first {
			targets = append(targets, ref)
		}
		for _, t := range targets {
			st, err := attest.Predicate([]attest.Subject{{Name: t.Context().Name(), Digest: mustHash(t.DigestStr())}}, d.PredicateType, json.RawMessage(body))
			if err != nil {
				return nil, err
			}
			a, err := attest.Attach(ctx, t, st, signer)
			if err != nil {
				return nil, err
			}
			out.Attestations = append(out.Attestations, a)
		}
	}
	if pem, err := publicKeyPEM(signer); err == nil {
		if err := os.WriteFile(filepath.Join(in.OutDir, publicKeyFile), pem, 0o644); err != nil {
			return nil, err
		}
	}
	return runner.NewResult(out, fmt.Sprintf("%d attestations (SLSA provenance, SPDX, CycloneDX)", len(out.Attestations)))
}

func (s *attestStep) provenanceInput(img ImageValue, pub PublishValue) attest.ProvenanceInput {
	f := s.facts
	tc, _ := goToolchain(context.Background())
	in := attest.ProvenanceInput{
		BuilderID:      builderID(f.Context),
		BuilderVersion: map[string]string{"paved": moduleVersion(mainModule)},
		BuildType:      "https://github.com/pavedhq/paved/buildtypes/" + f.Pipeline + "@v1",
		External: map[string]any{
			"pipeline":  f.Pipeline,
			"source":    map[string]any{"repository": f.Context.Repo, "ref": f.Context.Ref},
			"platforms": f.Platforms,
			"main":      f.Main,
			"image":     imageName(pub.Ref),
		},
		Internal:     map[string]any{"environment": f.Context.Environment, "toolchainEnv": tc.Env},
		InvocationID: f.RunID,
		StartedOn:    f.Started,
		FinishedOn:   time.Now().UTC(),
	}
	if f.Context.Commit != "" {
		uri := "git+" + f.Context.Repo
		if f.Context.Ref != "" {
			uri += "@" + f.Context.Ref
		}
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "source", URI: uri, Digest: map[string]string{"gitCommit": f.Context.Commit}})
	}
	if h, err := v1.NewHash(img.BaseDigest); err == nil {
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "base", URI: img.Base, Digest: map[string]string{h.Algorithm: h.Hex}})
	}
	if tc.Version != "" {
		in.Dependencies = append(in.Dependencies, attest.Dependency{Name: "toolchain", URI: "pkg:golang/toolchain@" + tc.Version})
	}
	return in
}

// builderID names the trust boundary that ran the build.
func builderID(rc runner.RunContext) string {
	if ref := os.Getenv("GITHUB_WORKFLOW_REF"); rc.Environment == "github-actions" && ref != "" {
		return "https://github.com/" + ref
	}
	return "https://github.com/pavedhq/paved/builders/" + rc.Environment + "@v1"
}

func mustHash(s string) v1.Hash {
	h, _ := v1.NewHash(s)
	return h
}

// imageName is the repository of a REPO@sha256:... reference.
func imageName(ref string) string {
	if d, err := name.NewDigest(ref); err == nil {
		return d.Context().Name()
	}
	return ref
}
