package hostci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pavedhq/paved/runner"
)

func init() {
	register(runner.Tekton{}.Name(), func(rc runner.RunContext, env Env) Host {
		return &Tekton{ResultsDir: rc.ResultsDir, Log: env.Log}
	})
}

// Tekton writes a TaskRun's results: one file per result in the results
// directory, which a Task names as $(results.NAME.path). IMAGE_URL and
// IMAGE_DIGEST are the type hint Tekton Chains reads to sign and attest
// the image; REPORT is a small summary of the run report.
type Tekton struct {
	// ResultsDir is /tekton/results in a TaskRun step.
	ResultsDir string
	// MaxBytes bounds what the results take of the TaskRun's termination
	// message, which Tekton limits to 4096 bytes (its default) for all
	// the results of all the Task's steps; 0 means TektonMaxBytes.
	MaxBytes int
	Log      io.Writer
}

var _ Host = (*Tekton)(nil)

// Result names, as the Tasks declare them.
const (
	ResultImageURL    = "IMAGE_URL"    // the repository, without the digest
	ResultImageDigest = "IMAGE_DIGEST" // sha256:...
	ResultReport      = "REPORT"       // the run report's summary, JSON
)

// TektonMaxBytes is Tekton's default limit on a TaskRun's results, and
// tektonOverhead what its entrypoint adds to the message (a StartedAt
// entry) besides the results.
const (
	TektonMaxBytes = 4096
	tektonOverhead = 128
)

// Write writes IMAGE_URL and IMAGE_DIGEST when the run published an image,
// and REPORT, made smaller, or left out with a warning, when the results
// would pass the size limit: a TaskRun whose results are too large fails,
// and IMAGE_URL and IMAGE_DIGEST matter more.
func (t *Tekton) Write(_ context.Context, rep *runner.Report, reportPath string) error {
	if t.ResultsDir == "" {
		return errors.New("Tekton: no results directory")
	}
	results := map[string]string{}
	var order []string
	add := func(k, v string) { results[k] = v; order = append(order, k) }
	if rep.Image != nil && rep.Image.Digest != "" {
		add(ResultImageURL, ImageURL(rep.Image.Ref))
		add(ResultImageDigest, rep.Image.Digest)
	}
	limit := t.MaxBytes
	if limit <= 0 {
		limit = TektonMaxBytes
	}
	budget := limit - tektonOverhead - messageSize(results)
	if s, full, ok := fitSummary(rep, reportPath, budget); ok {
		if !full {
			fmt.Fprintf(t.Log, "paved: warning: Tekton result %s shortened to fit the %d-byte result limit; the whole report is %s\n", ResultReport, limit, reportPath)
		}
		add(ResultReport, s)
	} else {
		fmt.Fprintf(t.Log, "paved: warning: Tekton result %s left out: it does not fit the %d-byte result limit; the report is %s\n", ResultReport, limit, reportPath)
	}
	var errs []error
	for _, k := range order {
		// Written as is, with no newline: Chains reads the digest verbatim.
		if err := os.WriteFile(filepath.Join(t.ResultsDir, k), []byte(results[k]), 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("Tekton results: %w", err)
	}
	return nil
}

// ImageURL is a reference without its digest: REPO for REPO@sha256:...,
// the form Chains pairs with IMAGE_DIGEST.
func ImageURL(ref string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i]
	}
	return ref
}

// messageSize is what results take in the termination message, which
// Tekton writes as a JSON list of {"key","value","type"} entries.
func messageSize(results map[string]string) int {
	type entry struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Type  int    `json:"type"`
	}
	var es []entry
	for k, v := range results {
		es = append(es, entry{k, v, 1})
	}
	b, _ := json.Marshal(es)
	return len(b)
}

// Summary is the REPORT result: the run's outcome at a glance, for a
// Pipeline's later tasks and people reading the TaskRun.
type Summary struct {
	Status   runner.Status     `json:"status"`
	Pipeline string            `json:"pipeline"`
	RunID    string            `json:"runId"`
	Report   string            `json:"report,omitempty"` // the full report's path in the workspace
	Image    string            `json:"image,omitempty"`
	Steps    map[string]string `json:"steps,omitempty"` // name: status, "+cached" when served from the cache
	Tests    *SummaryTests     `json:"tests,omitempty"`
	Scan     map[string]int    `json:"scan,omitempty"` // counts by severity
	Gate     *bool             `json:"scanPassed,omitempty"`
	Signed   int               `json:"signatures,omitempty"`
	Attested int               `json:"attestations,omitempty"`
}

// SummaryTests is the test step's figures.
type SummaryTests struct {
	Passed   int     `json:"passed"`
	Failed   int     `json:"failed"`
	Skipped  int     `json:"skipped"`
	Coverage float64 `json:"coverage"`
}

// fitSummary returns the summary as JSON in at most budget bytes of the
// termination message: whole if it fits, else without the per-step
// detail, else the status alone. full is false when something was left out.
func fitSummary(rep *runner.Report, reportPath string, budget int) (s string, full, ok bool) {
	sum := Summary{Status: rep.Status, Pipeline: rep.Pipeline, RunID: rep.RunID, Report: reportPath,
		Signed: len(rep.Signatures), Attested: len(rep.Attestations)}
	if rep.Image != nil {
		sum.Image = rep.Image.Ref
	}
	if len(rep.Steps) > 0 {
		sum.Steps = map[string]string{}
		for _, st := range rep.Steps {
			v := string(st.Status)
			if st.Cached {
				v += "+cached"
			}
			sum.Steps[st.Name] = v
		}
	}
	if t := rep.Test; t != nil {
		sum.Tests = &SummaryTests{Passed: t.Passed, Failed: t.Failed, Skipped: t.Skipped, Coverage: t.Coverage}
	}
	if sc := rep.Scan; sc != nil {
		sum.Scan, sum.Gate = sc.Counts, &sc.Passed
	}
	shorter := []func(*Summary){
		func(*Summary) {},
		func(s *Summary) { s.Steps, s.Report = nil, "" },
		func(s *Summary) { *s = Summary{Status: s.Status, Pipeline: s.Pipeline, RunID: s.RunID} },
	}
	for i, cut := range shorter {
		cut(&sum)
		b, err := json.Marshal(sum)
		if err != nil {
			return "", false, false
		}
		if messageSize(map[string]string{ResultReport: string(b)})+1 <= budget { // +1: the comma between entries
			return string(b), i == 0, true
		}
	}
	return "", false, false
}
