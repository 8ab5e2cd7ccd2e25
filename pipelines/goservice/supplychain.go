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
	"github.com/pavedhq/paved/runner"
)

// The supply-chain steps link Syft, Trivy and cosign, which make a binary
// of hundreds of megabytes that takes most of a second to start. Their
// work runs in paved's worker binary (see worker.go and package work);
// keys and revalidation stay here, so a warm run never starts it.

// SBOMConfig is what the sbom step works on.
type SBOMConfig struct {
	Dir  string `json:"dir"`
	Name string `json:"name"` // the image's repository, named in the documents
	// Created stamps the source documents, so one commit gives one SBOM.
	Created time.Time `json:"created"`
}

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

// ScanConfig is what the scan step works on, and its gate.
type ScanConfig struct {
	Dir        string         `json:"dir"`
	DBDir      string         `json:"dbDir,omitempty"`
	Severities []string       `json:"severities"`
	AnyFix     bool           `json:"anyFix"`
	Ignore     []IgnoreConfig `json:"ignore,omitempty"`
	// AllowIncomplete passes the step when a scanner cannot run for want
	// of its database (scan.required: false); the result says so.
	AllowIncomplete bool `json:"allowIncomplete,omitempty"`
}

// IgnoreConfig accepts one finding through the day of Expires, UTC.
type IgnoreConfig struct {
	ID      string    `json:"id"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
}

// ScanValue is the scan step's result.
type ScanValue struct {
	Status     string         `json:"status"`            // scanned, partially scanned, not scanned
	Missing    []string       `json:"missing,omitempty"` // the databases that were not there
	Counts     map[string]int `json:"counts"`
	Rule       string         `json:"rule"`
	Passed     bool           `json:"passed"`
	Violations []string       `json:"violations,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
}

// Files the supply-chain steps write.
const (
	ScanJSON      = "scan.json"
	ScanSARIF     = "scan.sarif"
	PublicKeyFile = "cosign.pub"
)

// SignConfig says how to sign. The secrets travel in the worker's
// environment, never in its request.
type SignConfig struct {
	Key         string `json:"key,omitempty"`
	Keyless     bool   `json:"keyless,omitempty"`
	FulcioURL   string `json:"fulcioUrl,omitempty"`
	RekorURL    string `json:"rekorUrl,omitempty"`
	TrustedRoot string `json:"trustedRoot,omitempty"`
}

// SignValue is the sign step's result.
type SignValue struct {
	Ref        string             `json:"ref"` // the signed index
	Signatures []runner.Signature `json:"signatures"`
	// Tags maps each signature tag to its manifest digest once signed, so a
	// re-run can tell the registry still holds them.
	Tags map[string]string `json:"tags"`
}

// AttestConfig is what provenance says about the run.
type AttestConfig struct {
	Sign      SignConfig        `json:"sign"`
	Pipeline  string            `json:"pipeline"`
	RunID     string            `json:"runId"`
	Started   time.Time         `json:"started"`
	Context   runner.RunContext `json:"context"`
	Platforms []string          `json:"platforms"`
	Main      string            `json:"main"`
	GoVersion string            `json:"goVersion"`
	GoEnv     []string          `json:"goEnv"`
	BuilderID string            `json:"builderId"`
	// PavedVersion is the builder's version.
	PavedVersion string `json:"pavedVersion"`
}

// AttestValue is the attest step's result.
type AttestValue struct {
	Ref          string               `json:"ref"`
	Attestations []runner.Attestation `json:"attestations"`
	Tags         map[string]string    `json:"tags"`
}

var sbomFormats = "spdx-json,cyclonedx-json"

// sbomStep describes the built image (every platform) and the source.
type sbomStep struct{ cfg SBOMConfig }

func (s *sbomStep) Name() string { return "sbom" }

func (s *sbomStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	var img ImageValue
	if err := in.Deps["build"].Decode(&img); err != nil {
		return "", err
	}
	k, err := sourceKey(ctx, "sbom/v1", s.cfg.Dir)
	if err != nil {
		return "", err
	}
	w, err := findWorker()
	if err != nil {
		return "", err
	}
	return k.String("image", img.Digest).String("formats", sbomFormats).JSON("config", s.cfg).String("worker", w.Identity).Sum(), nil
}

func (s *sbomStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	return runWorker(ctx, "sbom", s.cfg, in, nil)
}

// scanStep scans the built image with Trivy and the source with
// govulncheck, and applies the gate.
type scanStep struct{ cfg ScanConfig }

func (s *scanStep) Name() string { return "scan" }

// Key is empty (never cached) when the databases download: they change
// under the same inputs. An air-gapped database is named by what says
// which version it is.
func (s *scanStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	if s.cfg.DBDir == "" {
		return "", nil
	}
	var img ImageValue
	if err := in.Deps["build"].Decode(&img); err != nil {
		return "", err
	}
	k, err := sourceKey(ctx, "scan/v1", s.cfg.Dir)
	if err != nil {
		return "", err
	}
	w, err := findWorker()
	if err != nil {
		return "", err
	}
	k.String("image", img.Digest).JSON("config", s.cfg).String("worker", w.Identity)
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
	return runWorker(ctx, "scan", s.cfg, in, nil)
}

// signStep signs the published index and each platform manifest.
type signStep struct {
	cfg     SignConfig
	secrets []string // COSIGN_PASSWORD=..., SIGSTORE_ID_TOKEN=...
}

func (s *signStep) Name() string { return "sign" }

func (s *signStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	return signedKey("sign/v1", s.cfg, in, nil)
}

func (s *signStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v SignValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	return tagsHeld(ctx, v.Tags), nil
}

func (s *signStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	r, err := runWorker(ctx, "sign", s.cfg, in, s.secrets)
	if err != nil {
		return r, err
	}
	return recordTags(ctx, r, &SignValue{}, func(v any) map[string]string { return v.(*SignValue).tagsFrom() })
}

// attestStep attaches SLSA provenance and the SBOMs as signed in-toto
// attestations.
type attestStep struct {
	cfg     AttestConfig
	secrets []string
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
	return signedKey("attest/v1", s.cfg.Sign, in, []any{docs, facts})
}

func (s *attestStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v AttestValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	return tagsHeld(ctx, v.Tags), nil
}

func (s *attestStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	r, err := runWorker(ctx, "attest", s.cfg, in, s.secrets)
	if err != nil {
		return r, err
	}
	return recordTags(ctx, r, &AttestValue{}, func(v any) map[string]string { return v.(*AttestValue).tagsFrom() })
}

// signedKey keys a signing step by what it signs and with which key.
// Keyless signing is never cached: each run has a new certificate.
func signedKey(step string, cfg SignConfig, in runner.Inputs, extra []any) (string, error) {
	if cfg.Key == "" {
		return "", nil
	}
	var pub PublishValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return "", err
	}
	id := "uri:" + cfg.Key
	if b, err := os.ReadFile(cfg.Key); err == nil {
		sum := sha256.Sum256(b)
		id = "file:" + hex.EncodeToString(sum[:])
	}
	return runner.NewKey().String("step", step).String("ref", pub.Ref).String("signer", id).JSON("extra", extra).Sum(), nil
}

func (v *SignValue) tagsFrom() map[string]string {
	m := map[string]string{}
	for _, s := range v.Signatures {
		m[s.Ref] = ""
	}
	return m
}

func (v *AttestValue) tagsFrom() map[string]string {
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
