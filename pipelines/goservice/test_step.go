package goservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/runner"
)

// TestValue is the test step's result.
type TestValue struct {
	Coverage  float64              `json:"coverage"`
	Threshold float64              `json:"threshold"`
	Passed    int                  `json:"passed"`
	Failed    int                  `json:"failed"`
	Skipped   int                  `json:"skipped"`
	Failures  []runner.TestFailure `json:"failures,omitempty"`
	Vet       []string             `json:"vet,omitempty"`
}

// testStep runs the service's Go tests with the coverage gate.
type testStep struct {
	opts test.Options
	// env names the variables the tests read (paved.yaml test.env): go
	// test inherits them, and their values key the step.
	env []string
}

var _ runner.Keyed = (*testStep)(nil)

func (s *testStep) Name() string { return "test" }

func (s *testStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := sourceKey(ctx, "test/v3", s.opts.Dir)
	if err != nil {
		return "", err
	}
	k.JSON("options", struct {
		Packages    []string
		MinCoverage float64
		SkipVet     bool
	}{s.opts.Packages, s.opts.MinCoverage, s.opts.SkipVet})
	EnvKey(k, "test.env:", s.env)
	return k.Sum(), nil
}

func (s *testStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	opts := s.opts
	opts.OutDir = in.OutDir
	res, err := test.Run(ctx, opts)
	if res == nil {
		return nil, err
	}
	v := TestValue{Coverage: res.Coverage, Threshold: opts.MinCoverage, Passed: res.Passed, Failed: res.Failed, Skipped: res.Skipped, Vet: res.Vet}
	for _, f := range res.Failures {
		v.Failures = append(v.Failures, runner.TestFailure{Package: f.Package, Test: f.Test, Output: f.Output, File: f.File, Line: f.Line})
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped, coverage %.1f%%", res.Passed, res.Failed, res.Skipped, res.Coverage)
	r, encErr := runner.NewResult(v, summary)
	if encErr != nil {
		return nil, errors.Join(err, encErr)
	}
	// go's errors in the JUnit report may quote a GOPROXY with a token as
	// its user name (go hides passwords only).
	if rerr := redactFile(res.JUnit); rerr != nil {
		return nil, errors.Join(err, fmt.Errorf("redacting %s: %w", res.JUnit, rerr))
	}
	for _, p := range []string{res.JUnit, res.CoverProfile} {
		if p != "" {
			r.Export = append(r.Export, filepath.Base(p))
		}
	}
	return r, err
}

// redactFile strips URL credentials from a text file in place.
func redactFile(p string) error {
	if p == "" {
		return nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if r := runner.RedactURL(string(b)); r != string(b) {
		return os.WriteFile(p, []byte(r), 0o644)
	}
	return nil
}
