package runner

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pavedhq/paved/internal/atomicfile"
)

// ReportAPIVersion versions the run report. Fields are only ever added
// within a version; renaming or removing one needs a new version.
const ReportAPIVersion = "paved.dev/v1alpha1"

// Report is the run report: what a run did, for scripts and front doors.
type Report struct {
	APIVersion   string        `json:"apiVersion"`
	Kind         string        `json:"kind"`
	Pipeline     string        `json:"pipeline"`
	Team         string        `json:"team,omitempty"` // paved.yaml's team
	Service      string        `json:"service"`        // paved.yaml's service, else the source directory's name
	RunID        string        `json:"runId"`
	Status       Status        `json:"status"`
	StartedAt    time.Time     `json:"startedAt"`
	FinishedAt   time.Time     `json:"finishedAt"`
	DurationMs   int64         `json:"durationMs"`
	Source       RunContext    `json:"source"`
	Steps        []StepReport  `json:"steps"`
	Image        *ImageReport  `json:"image,omitempty"`
	Test         *TestReport   `json:"test,omitempty"`
	SBOM         []SBOMReport  `json:"sbom"`
	Scan         *ScanReport   `json:"scan,omitempty"`
	Lint         *LintReport   `json:"lint,omitempty"`
	Signatures   []Signature   `json:"signatures"`
	Attestations []Attestation `json:"attestations"`
	// Warnings say what the run chose not to do, such as signing with no
	// key given.
	Warnings []string `json:"warnings,omitempty"`
}

// ImageReport is the published image.
type ImageReport struct {
	// Ref is REPO@sha256:HEX, or oci:DIR@sha256:HEX for a layout.
	Ref       string   `json:"ref"`
	Digest    string   `json:"digest"`
	Platforms []string `json:"platforms"`
	Tags      []string `json:"tags,omitempty"`
}

// TestReport is what the test step found.
type TestReport struct {
	Coverage     float64       `json:"coverage"`
	Threshold    float64       `json:"threshold"`
	Passed       int           `json:"passed"`
	Failed       int           `json:"failed"`
	Skipped      int           `json:"skipped"`
	Failures     []TestFailure `json:"failures,omitempty"`
	Vet          []string      `json:"vet,omitempty"`
	JUnit        string        `json:"junit,omitempty"`
	CoverProfile string        `json:"coverProfile,omitempty"`
}

// TestFailure names a failed test; Test is empty when a package failed to build.
type TestFailure struct {
	Package string `json:"package"`
	Test    string `json:"test,omitempty"`
	Output  string `json:"output,omitempty"`
	// File (relative to the source directory, slash-separated) and Line
	// are where the failure was reported, when the output names them.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// SBOMReport is one SBOM the run wrote.
type SBOMReport struct {
	Format string `json:"format"`
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

// ScanReport is the vulnerability scan's counts and gate.
type ScanReport struct {
	// Status is "scanned", or "partially scanned" or "not scanned" when a
	// scanner could not run for want of the database Missing names; a run
	// publishes without a full scan only when told to (scan.required).
	Status     string         `json:"status"`
	Missing    []string       `json:"missing,omitempty"`
	Counts     map[string]int `json:"counts"`
	Gate       string         `json:"gate"`   // the rule, e.g. "fail on CRITICAL with a fix available"
	Passed     bool           `json:"passed"` // false when not scanned: nothing was checked
	Violations []string       `json:"violations,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"` // stale databases, ignore entries not honoured
	JSON       string         `json:"json,omitempty"`
	SARIF      string         `json:"sarif,omitempty"`
}

// LintReport is what lint (staticcheck) and SAST (gosec) found in the
// source, and their gates.
type LintReport struct {
	Passed bool       `json:"passed"`
	Tools  []LintTool `json:"tools"`
	// Findings are every finding, accepted ones with their exception's
	// reason, and those whose exception lapsed with its last day.
	Findings []LintFinding `json:"findings"`
	Warnings []string      `json:"warnings,omitempty"` // lapsed exceptions, exceptions matching nothing
	JSON     string        `json:"json,omitempty"`
	SARIF    string        `json:"sarif,omitempty"`
}

// LintTool is one tool's verdict.
type LintTool struct {
	Tool    string `json:"tool"` // staticcheck, gosec
	Kind    string `json:"kind"` // lint, sast
	Version string `json:"version,omitempty"`
	// Status is "checked", "disabled" (by paved.yaml or a flag: the gate
	// passes) or "not run" (the tool could not run: the gate fails, and
	// Error says why).
	Status string         `json:"status"`
	Error  string         `json:"error,omitempty"`
	Rule   string         `json:"rule"` // e.g. "fail on any finding"
	Passed bool           `json:"passed"`
	Counts map[string]int `json:"counts"` // findings no exception accepts, by severity
}

// LintFinding is one diagnostic of one rule at one place.
type LintFinding struct {
	Tool       string `json:"tool"`
	Rule       string `json:"rule"`
	Severity   string `json:"severity"`
	Confidence string `json:"confidence,omitempty"`
	CWE        string `json:"cwe,omitempty"`
	Title      string `json:"title,omitempty"`
	Message    string `json:"message"`
	URL        string `json:"url,omitempty"`
	File       string `json:"file"` // relative to the source directory, slash-separated
	Line       int    `json:"line,omitempty"`
	Col        int    `json:"col,omitempty"`
	Ignored    string `json:"ignored,omitempty"`  // the accepting exception's reason
	Expired    string `json:"expired,omitempty"`  // the last day of a matching exception that lapsed
	Blocking   bool   `json:"blocking,omitempty"` // fails its tool's gate
}

// Signature is a signature the run published.
type Signature struct {
	Subject string `json:"subject"` // the signed digest
	Ref     string `json:"ref"`     // where the signature is stored
}

// Attestation is an attestation the run published.
type Attestation struct {
	PredicateType string `json:"predicateType"`
	Subject       string `json:"subject"`
	Digest        string `json:"digest"`
}

// NewReport starts a report for a run of pipeline.
func NewReport(pipeline string, src RunContext, started time.Time) *Report {
	return &Report{
		APIVersion: ReportAPIVersion, Kind: "RunReport",
		Pipeline: pipeline, RunID: NewRunID(started), StartedAt: started.UTC(),
		Source: src, SBOM: []SBOMReport{}, Signatures: []Signature{}, Attestations: []Attestation{},
	}
}

// Finish records the outcome's steps and status.
func (r *Report) Finish(o *Outcome, finished time.Time) {
	r.Steps = o.Steps
	r.Status = Succeeded
	if o.Err != nil {
		r.Status = Failed
	}
	r.FinishedAt = finished.UTC()
	r.DurationMs = finished.Sub(r.StartedAt).Milliseconds()
}

// WriteFile writes the report as indented JSON, atomically.
func (r *Report) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("run report: %w", err)
	}
	return nil
}

// NewRunID is sortable by time and unique across hosts.
func NewRunID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
