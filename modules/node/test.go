package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pavedhq/paved/modules/test"
)

// TestOptions configure Project.Test.
type TestOptions struct {
	// OutDir receives junit.xml and coverage/coverage-summary.json when the
	// runner can be told where to write them (Vitest, Jest).
	OutDir string
	// MinCoverage is the statement coverage the tests must reach, percent.
	MinCoverage float64
	Output      io.Writer // the runner's output; nil discards it
}

// TestResult is a test run's outcome.
type TestResult struct {
	Runner   string // vitest, jest or "" when paved does not know the test script's runner
	Tests           // from the JUnit report; zero when the runner wrote none
	Coverage Coverage
	// JUnit and Summary are the files read, "" when there was none.
	JUnit, Summary string
}

// Runner names the test runner of a test script by its first word.
func Runner(script string) string {
	for _, word := range strings.Fields(script) {
		switch {
		case strings.Contains(word, "="): // FOO=bar vitest
			continue
		case word == "npx" || word == "pnpm" || word == "yarn" || word == "exec" || word == "--":
			continue
		}
		base := filepath.Base(word)
		switch base {
		case "vitest", "jest":
			return base
		}
		return ""
	}
	return ""
}

// Test runs the test script with coverage. Vitest and Jest are told to
// write a JUnit report and an istanbul coverage summary into OutDir; any
// other runner (c8, nyc) must write coverage/coverage-summary.json itself
// (the json-summary reporter). A failed test returns a *test.FailedError
// naming the tests, coverage under MinCoverage a *test.CoverageError, and
// no summary at all an error saying how to get one: the gate fails closed.
func (p *Project) Test(ctx context.Context, o TestOptions) (*TestResult, error) {
	w := o.Output
	if w == nil {
		w = io.Discard
	}
	if !p.HasScript("test") {
		return nil, fmt.Errorf("package.json has no \"test\" script: paved runs the project's own tests")
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	res := &TestResult{Runner: Runner(p.Package.Scripts["test"])}
	junit := filepath.Join(o.OutDir, "junit.xml")
	covDir := filepath.Join(o.OutDir, "coverage")
	summary := filepath.Join(covDir, "coverage-summary.json")
	var args, env []string
	switch res.Runner {
	case "vitest":
		args = []string{"--coverage.enabled=true", "--coverage.reporter=json-summary", "--coverage.reporter=text",
			"--coverage.reportsDirectory=" + covDir, "--reporter=default", "--reporter=junit", "--outputFile.junit=" + junit}
	case "jest":
		args = []string{"--ci", "--coverage", "--coverageReporters=json-summary", "--coverageReporters=text", "--coverageDirectory=" + covDir}
		if _, err := os.Stat(filepath.Join(p.Dir, "node_modules", "jest-junit")); err == nil {
			args = append(args, "--reporters=default", "--reporters=jest-junit")
			env = append(env, "JEST_JUNIT_OUTPUT_FILE="+junit)
		}
	default:
		// The runner writes where its configuration says; only a summary
		// written by this run counts.
		summary = filepath.Join(p.Dir, "coverage", "coverage-summary.json")
		junit = ""
	}
	for _, f := range []string{summary, junit} {
		if f != "" {
			os.Remove(f)
		}
	}
	started := time.Now()
	runErr := p.Script(ctx, w, env, "test", args...)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if junit != "" {
		if b, err := os.ReadFile(junit); err == nil {
			t, err := ParseJUnit(b)
			if err != nil {
				return nil, err
			}
			res.Tests, res.JUnit = t, junit
		}
	}
	if runErr != nil {
		if len(res.Failures) > 0 {
			return res, &test.FailedError{Failures: res.Failures}
		}
		return res, fmt.Errorf("tests failed: %w", runErr)
	}
	if len(res.Failures) > 0 {
		return res, &test.FailedError{Failures: res.Failures}
	}

	info, err := os.Stat(summary)
	if errors.Is(err, os.ErrNotExist) || (err == nil && info.ModTime().Before(started.Add(-time.Second))) {
		return res, fmt.Errorf("the tests wrote no coverage summary (%s): have the test runner write istanbul's json-summary report (c8 --reporter=json-summary, jest --coverageReporters=json-summary, vitest --coverage.reporter=json-summary)", summary)
	}
	if err != nil {
		return res, err
	}
	b, err := os.ReadFile(summary)
	if err != nil {
		return res, err
	}
	if res.Coverage, err = ParseCoverageSummary(b); err != nil {
		return res, fmt.Errorf("%s: %w", summary, err)
	}
	res.Summary = summary
	if got := res.Coverage.Statements.Percent(); got < o.MinCoverage {
		return res, &test.CoverageError{Got: got, Want: o.MinCoverage}
	}
	return res, nil
}
