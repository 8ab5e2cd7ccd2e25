package worker

import (
	"context"
	"fmt"
	"io"

	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/pipelines/protocol"
)

// Subprocess is a protocol.Executor that runs each request in a new
// paved-worker process, found by Find.
type Subprocess struct {
	// Stderr receives the worker's diagnostics; nil keeps them for errors.
	Stderr io.Writer
}

var _ protocol.Executor = Subprocess{}

// Identity implements protocol.Executor: the worker binary's build.
func (Subprocess) Identity(context.Context) (string, error) {
	w, err := Find()
	return w.Identity, err
}

// SBOM implements protocol.Executor.
func (s Subprocess) SBOM(ctx context.Context, req protocol.SBOMRequest) (*protocol.Result[protocol.SBOMValue], error) {
	return call[protocol.Result[protocol.SBOMValue]](ctx, s, req)
}

// Scan implements protocol.Executor.
func (s Subprocess) Scan(ctx context.Context, req protocol.ScanRequest) (*protocol.Result[protocol.ScanValue], error) {
	return call[protocol.Result[protocol.ScanValue]](ctx, s, req)
}

// Lint implements protocol.Executor.
func (s Subprocess) Lint(ctx context.Context, req protocol.LintRequest) (*protocol.Result[protocol.LintValue], error) {
	return call[protocol.Result[protocol.LintValue]](ctx, s, req)
}

// Sign implements protocol.Executor.
func (s Subprocess) Sign(ctx context.Context, req protocol.SignRequest) (*protocol.Result[protocol.SignValue], error) {
	return call[protocol.Result[protocol.SignValue]](ctx, s, req)
}

// Attest implements protocol.Executor.
func (s Subprocess) Attest(ctx context.Context, req protocol.AttestRequest) (*protocol.Result[protocol.AttestValue], error) {
	return call[protocol.Result[protocol.AttestValue]](ctx, s, req)
}

// Evaluate implements protocol.Executor.
func (s Subprocess) Evaluate(ctx context.Context, req protocol.EvaluateRequest) (*promote.Evaluation, error) {
	ev, err := call[promote.Evaluation](ctx, s, req)
	if err == nil && ev == nil {
		return nil, fmt.Errorf("%s answered no evaluation", Binary)
	}
	return ev, err
}

// call runs req in the worker and decodes its answer. The result may come
// with an error (a failed scan gate), and is nil when there is none.
func call[V any, R protocol.Request](ctx context.Context, s Subprocess, req R) (*V, error) {
	w, err := Find()
	if err != nil {
		return nil, err
	}
	c, env, err := protocol.NewCall(req)
	if err != nil {
		return nil, err
	}
	var a protocol.Answer
	if err := w.Call(ctx, nil, env, c, &a, s.Stderr); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Task, err)
	}
	var v V
	if len(a.Result) == 0 {
		return nil, a.Decode(&v)
	}
	err = a.Decode(&v)
	return &v, err
}
