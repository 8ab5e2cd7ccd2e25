package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/runner"
)

type okStep struct{}

func (okStep) Name() string { return "ok" }
func (okStep) Run(context.Context, runner.Inputs) (*runner.Result, error) {
	return runner.NewResult("done", "done")
}

func newRun(t *testing.T, out string) *Run {
	t.Helper()
	g := &runner.Graph{}
	g.Add(okStep{})
	return &Run{Pipeline: "p", Graph: g, OutputDir: out}
}

func TestExecuteWritesTheReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), ".paved")
	if _, err := newRun(t, out).Execute(context.Background(), &runner.Runner{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatal(err)
	}
}

// A run whose report cannot be written fails, naming the report: CI would
// otherwise read no report, or an older run's.
func TestExecuteFailsWhenTheReportCannotBeWritten(t *testing.T) {
	for name, prepare := range map[string]func(out string) error{
		// .paved is a file, so the directory cannot be made.
		"no directory": func(out string) error { return os.WriteFile(out, nil, 0o644) },
		// report.json is a directory, so the rename over it fails.
		"report is a directory": func(out string) error { return os.MkdirAll(filepath.Join(out, "report.json", "x"), 0o755) },
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), ".paved")
			if err := prepare(out); err != nil {
				t.Fatal(err)
			}
			rep, err := newRun(t, out).Execute(context.Background(), &runner.Runner{})
			if err == nil {
				t.Fatal("Execute succeeded without writing the report")
			}
			if !strings.Contains(err.Error(), "run report") {
				t.Errorf("error %q does not name the run report", err)
			}
			if rep == nil {
				t.Error("no report returned")
			}
		})
	}
}
