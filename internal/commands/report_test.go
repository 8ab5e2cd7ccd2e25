package commands

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/modules/promote"
)

// A --report that cannot be written is an error (exit 1), where it used to
// be a line on stderr after a successful exit.
func TestPromoteReportWriteFailureIsAnError(t *testing.T) {
	res := &promote.Result{Destination: "localhost:5000/prod/svc"}
	dir := t.TempDir()
	ok := filepath.Join(dir, "promote.json")
	if err := writePromoteReport(ok, res); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ok); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(dir, "blocked.json")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePromoteReport(blocked, res); err == nil {
		t.Fatal("writing --report over a directory succeeded")
	}
	if err := writePromoteReport("", res); err != nil {
		t.Errorf("no --report: %v", err)
	}
}
