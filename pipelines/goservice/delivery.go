package goservice

import (
	"context"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// SourceKey starts a step's cache key with everything of the source that
// can change the step's result; step names the step and its key version
// ("sbom/v1"). go-service hashes the Go module; other golden paths hash
// their own tree and tools.
type SourceKey func(ctx context.Context, step string) (*runner.KeyBuilder, error)

func keySource(ctx context.Context, key SourceKey, step, dir string) (*runner.KeyBuilder, error) {
	if key != nil {
		return key(ctx, step)
	}
	return sourceKey(ctx, step, dir)
}

// ImageResult is what a golden path's build step returns for the index it
// assembled on base for platforms: the index, written as an OCI layout to
// ImageLayoutDir in the step's outDir, and its ImageValue, which Delivery's
// steps read.
func ImageResult(ctx context.Context, outDir string, idx v1.ImageIndex, base build.Base, platforms []v1.Platform) (*runner.Result, error) {
	if err := build.WriteLayout(filepath.Join(outDir, ImageLayoutDir), idx); err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	baseDigest, err := base.Digest(ctx)
	if err != nil {
		return nil, err
	}
	v := ImageValue{Digest: d.String(), Base: base.Name(), BaseDigest: baseDigest.String()}
	for _, p := range platforms {
		v.Platforms = append(v.Platforms, p.String())
	}
	return runner.NewResult(v, fmt.Sprintf("%s for %d platforms", d, len(v.Platforms)))
}

// ImageAnnotations are the OCI annotations of a golden path's image: the
// source repository (its credentials redacted), the commit, version and,
// when named, the service as title.
func ImageAnnotations(rc runner.RunContext, service, version string) map[string]string {
	ann := map[string]string{"org.opencontainers.image.version": version}
	if rc.Repo != "" {
		ann["org.opencontainers.image.source"] = runner.RedactURL(rc.Repo)
	}
	if rc.Commit != "" {
		ann["org.opencontainers.image.revision"] = rc.Commit
	}
	if service != "" {
		ann["org.opencontainers.image.title"] = service
	}
	return ann
}

// CommitVersion is the version of an image that no release tag names: the
// commit's first 12 hex digits, else dev.
func CommitVersion(rc runner.RunContext) string {
	if c := rc.Commit; c != "" {
		return c[:min(12, len(c))]
	}
	return "dev"
}

// Delivery is what every golden path does once a step named "build" has
// made its image (an ImageValue, the index in the step's ImageLayoutDir):
// SBOM and scan it; publish it when they, the build and Needs pass; then
// sign it and attest its provenance and SBOMs. Where it publishes, the
// scan gate and the signing come from the run's options and paved.yaml,
// as for go-service.
type Delivery struct {
	// Key keys the sbom and scan steps; nil hashes the Go module of the
	// source directory.
	Key SourceKey
	// Needs are the steps publish waits for besides build, sbom and scan
	// (the tests).
	Needs []string
	// GoSource is the directory govulncheck reads: the service for
	// go-service, "" for a path with no Go source.
	GoSource string
	// Platforms are the image's platforms, as the provenance lists them.
	Platforms []string
	// Main says what was built, in the provenance: go-service's main
	// packages, another path's entrypoint.
	Main string
	// GoVersion and GoEnv, for a Go build, name the toolchain in the
	// provenance.
	GoVersion string
	GoEnv     []string
}

// AddDelivery adds the sbom, scan, publish, sign and attest steps to g. A
// run with no key or --keyless publishes unsigned, and says so in the
// report's warnings.
func AddDelivery(r *pipelines.Run, o pipelines.Options, g *runner.Graph, d Delivery) error {
	target, tags, err := publishTarget(r, o)
	if err != nil {
		return err
	}
	scfg, err := scanConfig(r, o)
	if err != nil {
		return err
	}
	scfg.Dir = d.GoSource
	g.Add(&sbomStep{cfg: SBOMConfig{Dir: r.Context.Dir, Name: documentName(r, target), Created: r.Context.Changed}, exec: o.Executor, key: d.Key}, "build")
	g.Add(&scanStep{cfg: scfg, exec: o.Executor, key: d.Key}, "build")
	g.Add(&publishStep{target: target, tags: tags, from: "build"}, append(append([]string(nil), d.Needs...), "build", "sbom", "scan")...)
	if !o.Signing.Enabled() {
		r.Warnings = append(r.Warnings, "signing and attestation skipped: no --key or --keyless")
		return nil
	}
	if _, ok := target.(build.RegistryTarget); !ok {
		return &pipelines.ConfigError{Field: "--image", Msg: "signing needs a registry repository: an oci: layout cannot hold cosign signatures"}
	}
	sc := SignConfig{Key: o.Signing.Key, Keyless: o.Signing.Keyless, FulcioURL: o.Signing.FulcioURL, RekorURL: o.Signing.RekorURL, TrustedRoot: o.Signing.TrustedRoot}
	secrets := workerSecrets(o.Signing)
	g.Add(&signStep{cfg: sc, secrets: secrets, exec: o.Executor}, "publish")
	g.Add(&attestStep{secrets: secrets, exec: o.Executor, cfg: AttestConfig{Sign: sc, Pipeline: r.Pipeline, RunID: r.ID, Started: r.Started,
		Context: r.Context, Platforms: d.Platforms, Main: d.Main, GoVersion: d.GoVersion, GoEnv: d.GoEnv,
		BuilderID: builderID(r.Context), PavedVersion: pavedVersion()}}, "publish", "sbom", "build")
	return nil
}

// Fill copies what the steps of a golden path found into the report: the
// test step's TestValue (with its JUnit report and coverage file), the
// image, SBOMs, scan, signatures and attestations.
func Fill(r *pipelines.Run) func(*runner.Report, *runner.Outcome) error {
	return func(rep *runner.Report, o *runner.Outcome) error { return fill(r, rep, o) }
}
