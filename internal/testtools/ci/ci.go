// Package ci lets a test tell a local run, where a missing tool or server
// may skip it, from a CI run, where a test that cannot run must fail: a
// green CI run never hides a check that did not run.
package ci

import (
	"os"
	"testing"
)

// Enabled reports whether the tests run in CI: CI is set, as every CI
// service (and .ci/run) sets it.
func Enabled() bool { return os.Getenv("CI") != "" }

// Unavailable ends a test that lacks something it needs: locally it skips
// with the reason; in CI it fails.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Enabled() {
		t.Fatalf("CI is set, so this test must run: "+format, args...)
	}
	t.Skipf(format, args...)
}
