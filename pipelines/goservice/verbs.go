package goservice

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/registry"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// The verbs run one supply-chain step of the golden path on an image that
// is already published (Options.Ref, by digest), so a team can compose its
// own pipeline: the same steps, keys, cache and report as go-service, with
// a pull step standing in for build and publish.
func init() {
	pipelines.Register("go-sbom", SBOM, false)
	pipelines.Register("go-scan", Scan, false)
	pipelines.Register("go-sign", Sign, false)
	pipelines.Register("go-attest", Attest, false)
}

type verb int

const (
	verbSBOM verb = iota
	verbScan
	verbSign
	verbAttest
)

// SBOM describes a published image (every platform) and the source.
func SBOM(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return planVerb(ctx, "sbom", o, verbSBOM)
}

// Scan scans a published image and the source, and applies the gate.
func Scan(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return planVerb(ctx, "scan", o, verbScan)
}

// Sign signs a published index and each of its manifests.
func Sign(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return planVerb(ctx, "sign", o, verbSign)
}

// Attest attaches SLSA provenance (of the source's commit, as built by
// paved) and the image's SBOMs to a published image as signed attestations.
func Attest(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return planVerb(ctx, "attest", o, verbAttest)
}

// pullName is the step that reads the published image.
const pullName = "pull"

// ParseRef reads the image a verb works on: a registry reference by digest.
func ParseRef(s string) (name.Digest, error) {
	if s == "" {
		return name.Digest{}, &pipelines.ConfigError{Field: "REF", Msg: "no image given: want a published image by digest, REPO@sha256:…"}
	}
	d, err := name.NewDigest(s)
	if err != nil {
		return name.Digest{}, &pipelines.ConfigError{Field: "REF", Msg: fmt.Sprintf("%q: want a published image by digest, REPO@sha256:…: %v", s, err)}
	}
	return d, nil
}

func planVerb(ctx context.Context, step string, o pipelines.Options, v verb) (*pipelines.Run, error) {
	ref, err := ParseRef(o.Ref)
	if err != nil {
		return nil, err
	}
	if (v == verbSign || v == verbAttest) && !o.Signing.Enabled() {
		return nil, &pipelines.ConfigError{Field: "--key", Msg: fmt.Sprintf("paved %s needs a signer: --key KEY or --keyless", step)}
	}
	r, err := pipelines.Prepare(ctx, step, o)
	if err != nil {
		return nil, err
	}
	if v != verbSign {
		// The SBOM, scan and provenance read the source as the golden path does.
		if _, err := moduleRoot(r.Context.Dir); err != nil {
			return nil, &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
		}
	}
	from := deps{image: pullName, published: pullName}
	g := &runner.Graph{}
	g.Add(&pullStep{ref: ref, layout: v != verbSign})
	sbom := func() {
		g.Add(&sbomStep{cfg: SBOMConfig{Dir: r.Context.Dir, Name: ref.Context().Name(), Created: r.Context.Changed}, exec: o.Executor, from: from}, pullName)
	}
	sc := SignConfig{Key: o.Signing.Key, Keyless: o.Signing.Keyless, FulcioURL: o.Signing.FulcioURL, RekorURL: o.Signing.RekorURL, TrustedRoot: o.Signing.TrustedRoot}
	switch v {
	case verbSBOM:
		sbom()
	case verbScan:
		scfg, err := scanConfig(r, o)
		if err != nil {
			return nil, err
		}
		g.Add(&scanStep{cfg: scfg, exec: o.Executor, from: from}, pullName)
	case verbSign:
		g.Add(&signStep{cfg: sc, secrets: workerSecrets(o.Signing), exec: o.Executor, from: from}, pullName)
	case verbAttest:
		sbom()
		tc, err := goToolchain(ctx)
		if err != nil {
			return nil, &pipelines.ConfigError{Field: "environment", Msg: err.Error()}
		}
		// Platforms come from the image itself: the pull step's value.
		g.Add(&attestStep{secrets: workerSecrets(o.Signing), exec: o.Executor, from: from, cfg: AttestConfig{Sign: sc, Pipeline: step, RunID: r.ID,
			Started: r.Started, Context: r.Context, Main: configuredMains(r), GoVersion: tc.Version, GoEnv: provenanceEnv(tc.Env),
			BuilderID: builderID(r.Context), PavedVersion: pavedVersion()}}, pullName, "sbom")
	}
	r.Graph = g
	r.Fill = func(rep *runner.Report, out *runner.Outcome) error {
		if res := out.Results[pullName]; res != nil {
			var p PulledValue
			if err := res.Decode(&p); err != nil {
				return err
			}
			rep.Image = &runner.ImageReport{Ref: p.Ref, Digest: p.Digest, Platforms: p.Platforms}
		}
		return fill(r, rep, out)
	}
	return r, nil
}

// PulledValue is the pull step's result. It decodes as both the build
// step's ImageValue and the publish step's PublishValue, so the
// supply-chain steps read it as they read those.
type PulledValue struct {
	Ref        string   `json:"ref"`
	Digest     string   `json:"digest"`
	Platforms  []string `json:"platforms"`
	Base       string   `json:"base,omitempty"`
	BaseDigest string   `json:"baseDigest,omitempty"`
}

// pullStep reads a published image by digest and, for the steps that read
// its content, keeps it as an OCI layout like the build step's.
type pullStep struct {
	ref    name.Digest
	layout bool
}

var (
	_ runner.Keyed       = (*pullStep)(nil)
	_ runner.Revalidator = (*pullStep)(nil)
)

func (s *pullStep) Name() string { return pullName }

// Key is the reference itself: a digest names the content.
func (s *pullStep) Key(context.Context, runner.Inputs) (string, error) {
	return runner.NewKey().String("step", "pull/v1").String("ref", s.ref.String()).String("layout", fmt.Sprint(s.layout)).Sum(), nil
}

// Revalidate reuses a cached pull only while the registry still holds the
// image: the steps after it sign and attest it there.
func (s *pullStep) Revalidate(ctx context.Context, _ *runner.Result) (bool, error) {
	h, err := v1.NewHash(s.ref.DigestStr())
	if err != nil {
		return false, nil
	}
	return build.Published(ctx, build.RegistryTarget{Repo: s.ref.Context()}, h)
}

func (s *pullStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	desc, err := remote.Get(s.ref, registry.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: registry %s: %w", s.ref, s.ref.RegistryStr(), err)
	}
	var idx v1.ImageIndex
	var anns map[string]string
	switch {
	case desc.MediaType.IsIndex():
		if idx, err = desc.ImageIndex(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.ref, err)
		}
		anns = im.Annotations
	case desc.MediaType.IsImage():
		// A single image is read as an index of one, so the steps see
		// its platform as they see an index's.
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.ref, err)
		}
		m, err := img.Manifest()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.ref, err)
		}
		anns = m.Annotations
		p := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
		idx = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	default:
		return nil, fmt.Errorf("reading %s: media type %s is not an image or index", s.ref, desc.MediaType)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.ref, err)
	}
	v := PulledValue{Ref: s.ref.String(), Digest: s.ref.DigestStr()}
	for _, m := range im.Manifests {
		if m.Platform != nil {
			v.Platforms = append(v.Platforms, m.Platform.String())
		}
	}
	v.Base, v.BaseDigest = anns[build.AnnotationBaseName], anns[build.AnnotationBaseDigest]
	if s.layout {
		if err := build.WriteLayout(filepath.Join(in.OutDir, ImageLayoutDir), idx); err != nil {
			return nil, err
		}
	}
	return runner.NewResult(v, fmt.Sprintf("%s for %d platforms", v.Ref, len(v.Platforms)))
}
