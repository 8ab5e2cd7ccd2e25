package protocol

import (
	"context"

	"github.com/pavedhq/paved/modules/promote"
)

// Executor runs the heavy steps. paved's CLI passes one that runs
// paved-worker; a Go program that links Syft, Trivy and cosign passes the
// in-process one. A pipeline given none fails the first heavy step that
// has work, naming what is missing.
type Executor interface {
	// Identity names the implementation's build (its Syft, Trivy and
	// cosign versions) for step cache keys: another build may answer
	// differently for the same inputs.
	Identity(ctx context.Context) (string, error)
	SBOM(ctx context.Context, req SBOMRequest) (*Result[SBOMValue], error)
	// Scan may return a result with an error: the gate failed on findings
	// that the result lists.
	Scan(ctx context.Context, req ScanRequest) (*Result[ScanValue], error)
	// Lint checks the source with staticcheck and gosec; like Scan it may
	// return a result with an error (a failed gate).
	Lint(ctx context.Context, req LintRequest) (*Result[LintValue], error)
	Sign(ctx context.Context, req SignRequest) (*Result[SignValue], error)
	Attest(ctx context.Context, req AttestRequest) (*Result[AttestValue], error)
	// Evaluate checks an image against a promotion policy (see Evaluator).
	Evaluate(ctx context.Context, req EvaluateRequest) (*promote.Evaluation, error)
}

// Result is a step's answer: its value, one line for people, and the files
// it wrote in the request's OutDir worth exporting (relative to it).
type Result[V any] struct {
	Value   V        `json:"value"`
	Summary string   `json:"summary,omitempty"`
	Export  []string `json:"export,omitempty"`
}

// Output is a finished step's value and the directory holding its files.
type Output[V any] struct {
	Value V      `json:"value"`
	Dir   string `json:"dir"`
}

// SBOMRequest describes the built image (every platform) and the source.
type SBOMRequest struct {
	Config SBOMConfig         `json:"config"`
	Build  Output[ImageValue] `json:"build"`
	OutDir string             `json:"outDir"`
}

// ScanRequest scans the built image and the source, and applies the gate.
type ScanRequest struct {
	Config ScanConfig         `json:"config"`
	Build  Output[ImageValue] `json:"build"`
	OutDir string             `json:"outDir"`
}

// LintRequest checks the source with staticcheck and gosec, and applies
// their gates.
type LintRequest struct {
	Config LintConfig `json:"config"`
	OutDir string     `json:"outDir"`
	// CacheDir keeps staticcheck's per-package results between runs;
	// empty keeps none. It changes no finding, so it is no part of the
	// step's key.
	CacheDir string `json:"cacheDir,omitempty"`
}

// SignRequest signs the published index and each platform manifest.
type SignRequest struct {
	Config  SignConfig   `json:"config"`
	Publish PublishValue `json:"publish"`
	OutDir  string       `json:"outDir"`
	// Secrets never go into the request's JSON: the subprocess executor
	// hands them to the worker's environment alone.
	Secrets Secrets `json:"-"`
}

// AttestRequest attaches SLSA provenance and the SBOMs as signed in-toto
// attestations.
type AttestRequest struct {
	Config  AttestConfig       `json:"config"`
	Publish PublishValue       `json:"publish"`
	Build   Output[ImageValue] `json:"build"`
	SBOM    Output[SBOMValue]  `json:"sbom"`
	OutDir  string             `json:"outDir"`
	Secrets Secrets            `json:"-"`
}

// EvaluateRequest checks an image against a policy.
type EvaluateRequest struct {
	Ref    string         `json:"ref"` // REPO@sha256:…
	Policy promote.Policy `json:"policy"`
	VulnDB string         `json:"vulnDB,omitempty"`
}

// Secrets are what signing needs and nothing may record.
type Secrets struct {
	Password []byte // the key file's password
	IDToken  string // the OIDC token for keyless signing
}

// String never shows the secrets.
func (Secrets) String() string { return "protocol.Secrets{…}" }

// GoString keeps %#v from printing the secrets.
func (s Secrets) GoString() string { return s.String() }
