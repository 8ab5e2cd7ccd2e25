package runner

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the tests a temporary directory of their own: most build
// throwaway graphs without closing the Outcome, which is what removes a
// run's paved-run-* directory (TestRunCleansUp checks that it does).
func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "runner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}
