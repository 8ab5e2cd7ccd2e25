package test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goWrapper puts a go command on PATH that runs the real one and, for go
// test, applies script to its output and exit status. It stands in for the
// go command failures that a fixture cannot cause on demand: events lost
// for a package, an exit status with no failing package.
func goWrapper(t *testing.T, script string) {
	t.Helper()
	real, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	body := "#!/bin/sh\nREAL=" + real + "\nif [ \"$1\" != test ]; then exec \"$REAL\" \"$@\"; fi\n" + script + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// twoPackages is a module with a passing package and one whose test does
// not compile.
var twoPackages = map[string]string{
	"ok/ok.go":      "package ok\n\nfunc F() int { return 1 }\n",
	"ok/ok_test.go": "package ok\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) { F() }\n",
	"bad/bad.go":    "package bad\n\nfunc G() int { return 2 }\n",
	"bad/bad_test.go": `package bad

import "testing"

func TestG(t *testing.T) {
	var s string = G()
	_ = s
}
`,
}

// A package with a build error whose events never arrive fails the step:
// go list names it, and it reported nothing.
func TestRunPackageWithNoEventsFails(t *testing.T) {
	dir := writeModule(t, twoPackages)
	goWrapper(t, `out=$("$REAL" "$@"); rc=$?
printf '%s\n' "$out" | grep -v 'example.com/svc/bad'
exit $rc`)
	res, err := run(t, dir, Options{SkipVet: true})
	if err == nil {
		t.Fatal("Run passed with a package that did not build and reported nothing")
	}
	if res == nil {
		t.Fatalf("Run: nil Result, %v", err)
	}
	var fe *FailedError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), fixtureModule+"/bad") {
		t.Errorf("error = %v, want a *FailedError naming %s/bad", err, fixtureModule)
	}
	if len(res.Failures) != 1 || res.Failures[0].Package != fixtureModule+"/bad" || !strings.Contains(res.Failures[0].Output, noResult) {
		t.Errorf("Failures = %+v, want %s/bad with no result", res.Failures, fixtureModule)
	}
	if res.Failed != 1 || res.Passed != 1 {
		t.Errorf("Passed, Failed = %d, %d; want 1, 1", res.Passed, res.Failed)
	}
}

// go test exiting non-zero fails the step even when every package that
// reported passed, naming the exit status and what go test said.
func TestRunExitStatusWithoutFailureFails(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"ok/ok.go":      "package ok\n\nfunc F() int { return 1 }\n",
		"ok/ok_test.go": "package ok\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) { F() }\n",
	})
	goWrapper(t, `"$REAL" "$@"; echo 'go: something went wrong after the tests' >&2; exit 3`)
	res, err := run(t, dir, Options{SkipVet: true})
	if err == nil {
		t.Fatal("Run passed although go test exited 3")
	}
	for _, want := range []string{"exit status 3", "something went wrong after the tests"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if res == nil || res.Passed != 1 {
		t.Errorf("Result = %+v, want the passing test kept", res)
	}
}
