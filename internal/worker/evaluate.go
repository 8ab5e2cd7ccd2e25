package worker

import (
	"context"
	"errors"
	"io"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/modules/promote"
)

// EvaluateTask is the worker argument that evaluates a policy.
const EvaluateTask = "evaluate"

// EvaluateRequest asks the worker to check an image against a policy.
type EvaluateRequest struct {
	Ref    string         `json:"ref"`
	Policy promote.Policy `json:"policy"`
	VulnDB string         `json:"vulnDB,omitempty"`
}

// EvaluateResponse is the worker's answer.
type EvaluateResponse struct {
	Evaluation *promote.Evaluation `json:"evaluation,omitempty"`
	Error      string              `json:"error,omitempty"`
}

// Evaluator is a promote.Evaluator that runs in the worker, where cosign
// and Trivy are linked.
type Evaluator struct {
	VulnDB string
	// Stderr receives the worker's diagnostics; nil keeps them for errors.
	Stderr io.Writer
}

var _ promote.Evaluator = Evaluator{}

// Evaluate implements promote.Evaluator.
func (e Evaluator) Evaluate(ctx context.Context, ref name.Digest, p promote.Policy) (*promote.Evaluation, error) {
	w, err := Find()
	if err != nil {
		return nil, err
	}
	var resp EvaluateResponse
	if err := w.Call(ctx, []string{EvaluateTask}, nil, EvaluateRequest{Ref: ref.String(), Policy: p, VulnDB: e.VulnDB}, &resp, e.Stderr); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	if resp.Evaluation == nil {
		return nil, errors.New("the worker answered no evaluation")
	}
	return resp.Evaluation, nil
}
