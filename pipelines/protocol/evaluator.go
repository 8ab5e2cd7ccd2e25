package protocol

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/modules/promote"
)

// Evaluator is a promote.Evaluator that evaluates with an Executor, so
// promotion and the golden path share one way to reach the heavy code.
type Evaluator struct {
	Executor Executor
	VulnDB   string // air-gapped vulnerability database for the scan rule
}

var _ promote.Evaluator = Evaluator{}

// Evaluate implements promote.Evaluator.
func (e Evaluator) Evaluate(ctx context.Context, ref name.Digest, p promote.Policy) (*promote.Evaluation, error) {
	return e.Executor.Evaluate(ctx, EvaluateRequest{Ref: ref.String(), Policy: p, VulnDB: e.VulnDB})
}
