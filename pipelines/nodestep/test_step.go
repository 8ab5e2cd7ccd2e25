package nodestep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// Test is the "test" step: it installs the project's dependencies, runs
// its lint script when there is one, then its tests with the coverage
// gate. Its result is a goservice.TestValue, with the JUnit report and
// the coverage summary exported.
type Test struct {
	Project     *node.Project
	MinCoverage float64
	// Env names the variables the tests read (paved.yaml test.env): their
	// values, hashed, key the step.
	Env []string
	// Source starts the step's key, which names the step and its version
	// as KeyVersion says ("ts-test/v1"): each path keeps its own.
	Source     goservice.SourceKey
	KeyVersion string
}

var _ runner.Keyed = (*Test)(nil)

func (s *Test) Name() string { return "test" }

func (s *Test) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := s.Source(ctx, s.KeyVersion)
	if err != nil {
		return "", err
	}
	k.JSON("minCoverage", s.MinCoverage)
	goservice.EnvKey(k, "test.env:", s.Env)
	return k.Sum(), nil
}

func (s *Test) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	p := s.Project
	var out bytes.Buffer
	if err := p.Install(ctx, &out); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, Tail(&out))
	}
	if p.HasScript("lint") {
		if err := Script(ctx, p, &out, "lint"); err != nil {
			return nil, err
		}
	}
	out.Reset()
	res, err := p.Test(ctx, node.TestOptions{OutDir: in.OutDir, MinCoverage: s.MinCoverage, Output: &out})
	if res == nil {
		return nil, fmt.Errorf("%w\n%s", err, Tail(&out))
	}
	cov := res.Coverage.Statements.Percent()
	if res.Summary == "" {
		cov = 0
	}
	v := goservice.TestValue{Coverage: cov, Threshold: s.MinCoverage, Passed: res.Passed, Failed: res.Failed, Skipped: res.Skipped}
	for _, f := range res.Failures {
		v.Failures = append(v.Failures, runner.TestFailure{Package: f.Package, Test: f.Test, Output: f.Output, File: f.File, Line: f.Line})
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped, coverage %.1f%%", res.Passed, res.Failed, res.Skipped, cov)
	r, encErr := runner.NewResult(v, summary)
	if encErr != nil {
		return nil, errors.Join(err, encErr)
	}
	if res.JUnit != "" {
		r.Export = append(r.Export, filepath.Base(res.JUnit))
	}
	if res.Summary != "" {
		if rel, rerr := filepath.Rel(in.OutDir, res.Summary); rerr == nil && !strings.HasPrefix(rel, "..") {
			r.Export = append(r.Export, filepath.ToSlash(rel))
		}
	}
	// A coverage figure says all there is to say; other errors with no
	// failed test get the end of the output.
	var ce *test.CoverageError
	if err != nil && res.Failed == 0 && !errors.As(err, &ce) {
		err = fmt.Errorf("%w\n%s", err, Tail(&out))
	}
	return r, err
}
