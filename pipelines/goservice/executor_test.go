package goservice

import (
	"context"
	"strings"
	"testing"

	"github.com/pavedhq/paved/runner"
)

// A heavy step with work and no executor fails, saying what to pass.
func TestHeavyStepWithoutExecutorFails(t *testing.T) {
	build, err := runner.NewResult(ImageValue{Digest: "sha256:00"}, "")
	if err != nil {
		t.Fatal(err)
	}
	in := runner.Inputs{Deps: map[string]*runner.Result{"build": build}, OutDir: t.TempDir()}
	for _, s := range []runner.Step{&sbomStep{}, &scanStep{}, &lintStep{}, &signStep{}, &attestStep{}} {
		_, err := s.Run(context.Background(), in)
		if err == nil || !strings.Contains(err.Error(), "needs an executor (pipelines.Options.Executor)") {
			t.Errorf("%s: Run error %v, want one naming the missing executor", s.Name(), err)
		}
	}
	if _, err := (&sbomStep{cfg: SBOMConfig{Dir: t.TempDir()}}).Key(context.Background(), in); err == nil {
		t.Error("sbom Key succeeded without an executor")
	}
}
