package goservice

import (
	"context"
	"fmt"

	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// noExecutor is the error of a heavy step that has work and nothing to run
// it: the caller must choose where Syft, Trivy and cosign run.
func noExecutor(step string) error {
	return fmt.Errorf("the %s step needs an executor (pipelines.Options.Executor): paved's CLI runs paved-worker; "+
		"a Go program that links the heavy modules can pass the in-process one (package pipelines/goservice/work)", step)
}

func identity(ctx context.Context, x protocol.Executor, step string) (string, error) {
	if x == nil {
		return "", noExecutor(step)
	}
	return x.Identity(ctx)
}

// output reads a finished step's value and directory for a request.
func output[V any](in runner.Inputs, step string) (protocol.Output[V], error) {
	var o protocol.Output[V]
	r := in.Deps[step]
	if r == nil {
		return o, fmt.Errorf("no result from the %s step", step)
	}
	if err := r.Decode(&o.Value); err != nil {
		return o, fmt.Errorf("reading the %s step's result: %w", step, err)
	}
	o.Dir = r.Dir
	return o, nil
}

// toResult turns an executor's answer into the runner's, keeping a result
// that comes with an error (a failed scan gate) for the report.
func toResult[V any](res *protocol.Result[V], err error) (*runner.Result, error) {
	if res == nil {
		if err == nil {
			err = fmt.Errorf("the executor answered no result")
		}
		return nil, err
	}
	r, nerr := runner.NewResult(res.Value, res.Summary)
	if nerr != nil {
		return nil, nerr
	}
	r.Export = res.Export
	return r, err
}
