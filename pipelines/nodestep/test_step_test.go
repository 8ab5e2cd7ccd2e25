package nodestep

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/runner"
)

// The test step's key changes with the path's key version, the coverage
// gate, the project's files and the values of test.env; not with what
// SkipSource leaves out.
func TestTestKey(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		ci.Unavailable(t, "node is not installed")
	}
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"x"}`)
	t.Setenv("PAVED_NODESTEP_TEST", "one")
	step := Test{MinCoverage: 80, Env: []string{"PAVED_NODESTEP_TEST"}, Source: SourceKey(dir, SkipSource), KeyVersion: "ts-test/v1"}
	key := func(s Test) string {
		t.Helper()
		k, err := s.Key(context.Background(), runner.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	first := key(step)
	if again := key(step); again != first {
		t.Fatalf("the same step keys %s then %s", first, again)
	}
	write("node_modules/left/out.js", "1")
	write("coverage/lcov.info", "1")
	if k := key(step); k != first {
		t.Error("node_modules or coverage changed the key")
	}
	other := step
	other.KeyVersion = "frontend-test/v1"
	if key(other) == first {
		t.Error("another key version keys the same")
	}
	other = step
	other.MinCoverage = 90
	if key(other) == first {
		t.Error("another coverage gate keys the same")
	}
	t.Setenv("PAVED_NODESTEP_TEST", "two")
	if key(step) == first {
		t.Error("another test.env value keys the same")
	}
	t.Setenv("PAVED_NODESTEP_TEST", "one")
	write("src/app.js", "1")
	if key(step) == first {
		t.Error("a new source file keys the same")
	}
}
