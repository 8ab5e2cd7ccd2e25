package goservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/modules/registry"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// The supply-chain steps link Syft, Trivy and cosign, which make a binary
// of hundreds of megabytes that takes most of a second to start. Their
// work runs in the protocol.Executor that the options name (paved-worker
// for paved's CLI; see executor.go); keys and revalidation stay here, so a
// warm run never starts it.

// The supply-chain steps' configs and values are the protocol's, which the
// executors on both sides of the wire import.
type (
	SBOMConfig   = protocol.SBOMConfig
	SBOMValue    = protocol.SBOMValue
	SBOMDocument = protocol.SBOMDocument
	ScanConfig   = protocol.ScanConfig
	IgnoreConfig = protocol.IgnoreConfig
	ScanValue    = protocol.ScanValue
	SignConfig   = protocol.SignConfig
	SignValue    = protocol.SignValue
	AttestConfig = protocol.AttestConfig
	AttestValue  = protocol.AttestValue
)

// Files the supply-chain steps write.
const (
	ScanJSON      = protocol.ScanJSON
	ScanSARIF     = protocol.ScanSARIF
	PublicKeyFile = protocol.PublicKeyFile
)

var sbomFormats = "spdx-json,cyclonedx-json"

// sbomStep describes the built image (every platform) and the source.
type sbomStep struct {
	cfg  SBOMConfig
	exec protocol.Executor
	from deps
	key  SourceKey // nil: the Go module holding cfg.Dir
}

func (s *sbomStep) Name() string { return "sbom" }

func (s *sbomStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	var img ImageValue
	if err := in.Deps[s.from.build()].Decode(&img); err != nil {
		return "", err
	}
	k, err := keySource(ctx, s.key, "sbom/v1", s.cfg.Dir)
	if err != nil {
		return "", err
	}
	id, err := identity(ctx, s.exec, s.Name())
	if err != nil {
		return "", err
	}
	return k.String("image", img.Digest).String("formats", sbomFormats).JSON("config", s.cfg).String("worker", id).Sum(), nil
}

func (s *sbomStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	if s.exec == nil {
		return nil, noExecutor(s.Name())
	}
	build, err := output[ImageValue](in, s.from.build())
	if err != nil {
		return nil, err
	}
	return toResult(s.exec.SBOM(ctx, protocol.SBOMRequest{Config: s.cfg, Build: build, OutDir: in.OutDir}))
}

// scanStep scans the built image with Trivy and the source with
// govulncheck, and applies the gate.
type scanStep struct {
	cfg  ScanConfig
	exec protocol.Executor
	from deps
	key  SourceKey // nil: the Go module holding cfg.Dir
}

func (s *scanStep) Name() string { return "scan" }

// Key is empty (never cached) when the databases download: they change
// under the same inputs. An air-gapped database is named by what says
// which version it is.
func (s *scanStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	if s.cfg.DBDir == "" {
		return "", nil
	}
	var img ImageValue
	if err := in.Deps[s.from.build()].Decode(&img); err != nil {
		return "", err
	}
	k, err := keySource(ctx, s.key, "scan/v1", s.cfg.Dir)
	if err != nil {
		return "", err
	}
	id, err := identity(ctx, s.exec, s.Name())
	if err != nil {
		return "", err
	}
	k.String("image", img.Digest).JSON("config", s.cfg).String("worker", id)
	if err := dbIdentity(k, s.cfg.DBDir); err != nil {
		return "", err
	}
	return k.Sum(), nil
}

// dbIdentity adds the databases' metadata and file sizes and times: cheap,
// and any update rewrites them.
func dbIdentity(k *runner.KeyBuilder, dir string) error {
	for _, rel := range []string{"db/metadata.json", "govulndb/index/db.json"} {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		k.String(rel, string(b))
	}
	for _, rel := range []string{"db/trivy.db", "govulndb/index/modules.json"} {
		if info, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			k.String(rel, fmt.Sprintf("%d %d", info.Size(), info.ModTime().UnixNano()))
		}
	}
	return nil
}

func (s *scanStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	if s.exec == nil {
		return nil, noExecutor(s.Name())
	}
	build, err := output[ImageValue](in, s.from.build())
	if err != nil {
		return nil, err
	}
	return toResult(s.exec.Scan(ctx, protocol.ScanRequest{Config: s.cfg, Build: build, OutDir: in.OutDir}))
}

// deps names the steps whose image a supply-chain step reads: the golden
// path's build and publish, or the pull of a published image (verbs.go).
type deps struct{ image, published string }

func (d deps) build() string {
	if d.image == "" {
		return "build"
	}
	return d.image
}

func (d deps) publish() string {
	if d.published == "" {
		return "publish"
	}
	return d.published
}

// secretEnv gives the signing secrets when a signing step starts.
type secretEnv func(ctx context.Context) (protocol.Secrets, error)

// workerSecrets is what the signing executor needs: the key's password,
// and an OIDC token fetched only now, since it expires within minutes.
func workerSecrets(s pipelines.Signing) secretEnv {
	return func(ctx context.Context) (protocol.Secrets, error) {
		sec := protocol.Secrets{Password: s.Password}
		if s.Keyless && s.IDToken != nil {
			tok, err := s.IDToken(ctx)
			if err != nil {
				return protocol.Secrets{}, fmt.Errorf("keyless signing: %w", err)
			}
			sec.IDToken = tok
		}
		return sec, nil
	}
}

// signStep signs the published index and each platform manifest.
type signStep struct {
	cfg     SignConfig
	secrets secretEnv
	exec    protocol.Executor
	from    deps
}

func (s *signStep) Name() string { return "sign" }

func (s *signStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	return signedKey("sign/v1", s.cfg, in, s.from.publish(), nil)
}

func (s *signStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v SignValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	return tagsHeld(ctx, v.Tags), nil
}

func (s *signStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	if s.exec == nil {
		return nil, noExecutor(s.Name())
	}
	pub, err := output[PublishValue](in, s.from.publish())
	if err != nil {
		return nil, err
	}
	secrets, err := s.secrets(ctx)
	if err != nil {
		return nil, err
	}
	r, err := toResult(s.exec.Sign(ctx, protocol.SignRequest{Config: s.cfg, Publish: pub.Value, OutDir: in.OutDir, Secrets: secrets}))
	if err != nil {
		return r, err
	}
	return recordTags(ctx, r, &SignValue{}, func(v any) map[string]string { return signTags(v.(*SignValue)) })
}

// attestStep attaches SLSA provenance and the SBOMs as signed in-toto
// attestations.
type attestStep struct {
	cfg     AttestConfig
	secrets secretEnv
	exec    protocol.Executor
	from    deps
}

func (s *attestStep) Name() string { return "attest" }

func (s *attestStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	var docs SBOMValue
	if err := in.Deps["sbom"].Decode(&docs); err != nil {
		return "", err
	}
	// Times and the run id are left out: the attestation of an unchanged
	// build from an earlier run still tells the truth about it.
	facts := s.cfg
	facts.RunID, facts.Started = "", time.Time{}
	return signedKey("attest/v1", s.cfg.Sign, in, s.from.publish(), []any{docs, facts})
}

func (s *attestStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v AttestValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	return tagsHeld(ctx, v.Tags), nil
}

func (s *attestStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	if s.exec == nil {
		return nil, noExecutor(s.Name())
	}
	pub, err := output[PublishValue](in, s.from.publish())
	if err != nil {
		return nil, err
	}
	build, err := output[ImageValue](in, s.from.build())
	if err != nil {
		return nil, err
	}
	docs, err := output[SBOMValue](in, "sbom")
	if err != nil {
		return nil, err
	}
	secrets, err := s.secrets(ctx)
	if err != nil {
		return nil, err
	}
	cfg := s.cfg
	if len(cfg.Platforms) == 0 {
		// A published image (paved attest) says its platforms itself.
		cfg.Platforms = build.Value.Platforms
	}
	r, err := toResult(s.exec.Attest(ctx, protocol.AttestRequest{Config: cfg, Publish: pub.Value, Build: build, SBOM: docs,
		OutDir: in.OutDir, Secrets: secrets}))
	if err != nil {
		return r, err
	}
	return recordTags(ctx, r, &AttestValue{}, func(v any) map[string]string { return attestTags(v.(*AttestValue)) })
}

// signedKey keys a signing step by what it signs and with which key.
// Keyless signing is never cached: each run has a new certificate.
func signedKey(step string, cfg SignConfig, in runner.Inputs, from string, extra []any) (string, error) {
	if cfg.Key == "" {
		return "", nil
	}
	var pub PublishValue
	if err := in.Deps[from].Decode(&pub); err != nil {
		return "", err
	}
	id := "uri:" + cfg.Key
	if b, err := os.ReadFile(cfg.Key); err == nil {
		sum := sha256.Sum256(b)
		id = "file:" + hex.EncodeToString(sum[:])
	}
	return runner.NewKey().String("step", step).String("ref", pub.Ref).String("signer", id).JSON("extra", extra).Sum(), nil
}

func signTags(v *SignValue) map[string]string {
	m := map[string]string{}
	for _, s := range v.Signatures {
		m[s.Ref] = ""
	}
	return m
}

func attestTags(v *AttestValue) map[string]string {
	m := map[string]string{}
	if d, err := name.NewDigest(v.Ref); err == nil {
		for _, a := range v.Attestations {
			m[d.Context().Tag(tagFor(a.Subject, "att")).String()] = ""
		}
	}
	return m
}

func tagFor(digest, suffix string) string {
	h := digest
	if len(h) > 7 && h[:7] == "sha256:" {
		h = "sha256-" + h[7:]
	}
	return h + "." + suffix
}

// recordTags notes the manifest digest each signature or attestation tag
// has after the step, for Revalidate.
func recordTags(ctx context.Context, r *runner.Result, v any, tags func(any) map[string]string) (*runner.Result, error) {
	if err := r.Decode(v); err != nil {
		return nil, err
	}
	held := tags(v)
	for ref := range held {
		t, err := name.NewTag(ref)
		if err != nil {
			return nil, err
		}
		desc, err := remote.Head(t, registry.Options(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", ref, err)
		}
		held[ref] = desc.Digest.String()
	}
	switch x := v.(type) {
	case *SignValue:
		x.Tags = held
	case *AttestValue:
		x.Tags = held
	}
	out, err := runner.NewResult(v, r.Summary)
	if err != nil {
		return nil, err
	}
	out.Export, out.Dir = r.Export, r.Dir
	return out, nil
}

// tagsHeld reports whether every tag still points where the step left it.
// Anything else (a wiped registry, another signer's append) signs again;
// signing is idempotent.
func tagsHeld(ctx context.Context, tags map[string]string) bool {
	if len(tags) == 0 {
		return false
	}
	for ref, digest := range tags {
		t, err := name.NewTag(ref)
		if err != nil {
			return false
		}
		desc, err := remote.Head(t, registry.Options(ctx)...)
		if err != nil || desc.Digest.String() != digest {
			return false
		}
	}
	return true
}
