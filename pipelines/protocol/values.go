package protocol

import (
	"time"

	"github.com/pavedhq/paved/runner"
)

// ImageValue is the build step's result: an index kept as an OCI layout in
// the step's directory.
type ImageValue struct {
	Digest     string   `json:"digest"`
	Platforms  []string `json:"platforms"`
	Base       string   `json:"base"`
	BaseDigest string   `json:"baseDigest"`
}

// ImageLayoutDir is where the build step keeps the index, in its directory.
const ImageLayoutDir = "image"

// PublishValue is the publish step's result.
type PublishValue struct {
	Ref    string   `json:"ref"`
	Digest string   `json:"digest"`
	Tags   []string `json:"tags,omitempty"`
}

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

// LintConfig is what the lint step checks, and its gates: staticcheck
// (lint) and gosec (SAST).
type LintConfig struct {
	Dir         string         `json:"dir"`
	Staticcheck LintToolConfig `json:"staticcheck"`
	Gosec       LintToolConfig `json:"gosec"`
}

// LintToolConfig configures one tool and its gate (package lint's Tool).
type LintToolConfig struct {
	Disabled bool            `json:"disabled,omitempty"`
	Checks   []string        `json:"checks,omitempty"`
	Severity string          `json:"severity,omitempty"` // the least severe finding that fails
	Warn     bool            `json:"warn,omitempty"`
	Ignore   []LintException `json:"ignore,omitempty"`
}

// LintException accepts a rule's findings (in Path, when set) through the
// day of Expires, UTC.
type LintException struct {
	Rule    string    `json:"rule"`
	Path    string    `json:"path,omitempty"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
}

// LintValue is the lint step's result.
type LintValue struct {
	Passed   bool                 `json:"passed"`
	Tools    []runner.LintTool    `json:"tools"`
	Findings []runner.LintFinding `json:"findings"`
	Warnings []string             `json:"warnings,omitempty"`
}

// Files the supply-chain steps write.
const (
	ScanJSON      = "scan.json"
	ScanSARIF     = "scan.sarif"
	LintJSON      = "lint.json"
	LintSARIF     = "lint.sarif"
	PublicKeyFile = "cosign.pub"
)

// SignConfig says how to sign. The secrets travel in SignRequest.Secrets,
// never in the config.
type SignConfig struct {
	Key       string `json:"key,omitempty"`
	Keyless   bool   `json:"keyless,omitempty"`
	FulcioURL string `json:"fulcioUrl,omitempty"`
	RekorURL  string `json:"rekorUrl,omitempty"`
	// TrustedRoot is a trusted_root.json that keyless signing verifies
	// Fulcio's and Rekor's answers against; empty means the public good.
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
