package goservice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// An exported file that cannot be written is an error of the run, not a
// report that silently names no file.
func TestExportFailureIsAnError(t *testing.T) {
	stepDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(stepDir, ScanJSON), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := &runner.Result{Export: []string{ScanJSON}, Dir: stepDir}

	ok := &pipelines.Run{OutputDir: filepath.Join(t.TempDir(), ".paved")}
	var errs []error
	if got := export(ok, res, "scan", ScanJSON, &errs); got == "" || len(errs) > 0 {
		t.Fatalf("export = %q, %v", got, errs)
	}
	if b, err := os.ReadFile(filepath.Join(ok.OutputDir, "scan", ScanJSON)); err != nil || string(b) != "{}" {
		t.Fatalf("exported file %q, %v", b, err)
	}

	out := filepath.Join(t.TempDir(), ".paved")
	if err := os.MkdirAll(filepath.Join(out, "scan", ScanJSON, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	errs = nil
	if got := export(&pipelines.Run{OutputDir: out}, res, "scan", ScanJSON, &errs); got != "" {
		t.Errorf("export = %q for a file it could not write", got)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), ScanJSON) {
		t.Errorf("errs = %v, want one naming %s", errs, ScanJSON)
	}
}
