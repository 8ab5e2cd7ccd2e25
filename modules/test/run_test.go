package test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const fixtureModule = "example.com/svc"

// writeModule writes a module named fixtureModule with the given files
// (path relative to the module root -> content) into a fresh directory.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module " + fixtureModule + "\n\ngo 1.26\n"
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fixtureEnv keeps the fixtures independent of the environment the tests
// run in: the local toolchain, no workspace, no inherited flags.
var fixtureEnv = []string{"GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=-mod=mod"}

func run(t *testing.T, dir string, opts Options) (*Result, error) {
	t.Helper()
	opts.Dir = dir
	if opts.OutDir == "" {
		opts.OutDir = filepath.Join(t.TempDir(), "out")
	}
	opts.Env = append(opts.Env, fixtureEnv...)
	return Run(context.Background(), opts)
}

// coverFunc is go tool cover -func's "total:" figure for profile, the
// independent check of Result.Coverage.
func coverFunc(t *testing.T, dir, profile string) string {
	t.Helper()
	cmd := exec.Command("go", "tool", "cover", "-func="+profile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fixtureEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go tool cover -func: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "total:" {
			return strings.TrimSuffix(f[len(f)-1], "%")
		}
	}
	t.Fatalf("no total: line in go tool cover -func output:\n%s", out)
	return ""
}

func TestRunPasses(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"calc/calc.go": `package calc

func Abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func Sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}
`,
		"calc/calc_test.go": `package calc

import "testing"

func TestAbs(t *testing.T) {
	for _, x := range []int{-2, 3} {
		if Abs(x) < 0 {
			t.Fatal(x)
		}
	}
}

func TestSign(t *testing.T) {
	t.Run("positive", func(t *testing.T) {
		if Sign(4) != 1 {
			t.Fatal("sign")
		}
	})
}
`,
		// A package without tests still counts towards coverage.
		"util/util.go": "package util\n\nfunc Twice(x int) int { return 2 * x }\n",
		"main.go":      "package main\n\nfunc main() {}\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestMain2(t *testing.T) {}\n",
	})
	res, err := run(t, dir, Options{MinCoverage: 10})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Failed != 0 || len(res.Failures) != 0 || len(res.Vet) != 0 {
		t.Errorf("Failed = %d, Failures = %v, Vet = %v; want none", res.Failed, res.Failures, res.Vet)
	}
	// TestAbs, TestSign, TestSign/positive, TestMain2.
	if res.Passed != 4 || res.Skipped != 0 {
		t.Errorf("Passed, Skipped = %d, %d; want 4, 0", res.Passed, res.Skipped)
	}
	if res.Packages != 3 {
		t.Errorf("Packages = %d, want 3", res.Packages)
	}
	if res.Coverage <= 0 || res.Coverage >= 100 {
		t.Errorf("Coverage = %v, want strictly between 0 and 100", res.Coverage)
	}
	if want, got := coverFunc(t, dir, res.CoverProfile), formatPercent(res.Coverage); got != want {
		t.Errorf("Coverage = %s%%, go tool cover -func says %s%%", got, want)
	}

	doc := readJUnit(t, res.JUnit)
	if doc.Tests != 4 || doc.Failures != 0 || doc.Skipped != 0 {
		t.Errorf("JUnit tests/failures/skipped = %d/%d/%d, want 4/0/0", doc.Tests, doc.Failures, doc.Skipped)
	}
	var names []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			names = append(names, c.Classname+" "+c.Name)
		}
	}
	wantNames := []string{
		fixtureModule + " TestMain2",
		fixtureModule + "/calc TestAbs",
		fixtureModule + "/calc TestSign",
		fixtureModule + "/calc TestSign/positive",
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("JUnit test cases (-want +got):\n%s", diff)
	}
	if filepath.Dir(res.JUnit) != filepath.Dir(res.CoverProfile) {
		t.Errorf("JUnit %s and profile %s in different directories", res.JUnit, res.CoverProfile)
	}
}

// formatPercent rounds as go tool cover -func does.
func formatPercent(f float64) string { return fmt.Sprintf("%.1f", f) }

// failingModule has a failing test, a skipped test, a failing subtest and
// a passing test, and a test that prints bytes XML cannot carry.
var failingModule = map[string]string{
	"a/a.go": "package a\n\nfunc One() int { return 1 }\n",
	"a/a_test.go": `package a

import "testing"

func TestOK(t *testing.T) {
	if One() != 1 {
		t.Fatal("One")
	}
}

func TestA(t *testing.T) {
	t.Log("before \x00 <boom> & \x1b[31m")
	t.Fatal("boom A")
}

func TestSkip(t *testing.T) { t.Skip("not today") }

func TestG(t *testing.T) {
	t.Run("fine", func(t *testing.T) {})
	t.Run("sub", func(t *testing.T) { t.Error("boom sub") })
}
`,
}

func TestRunFailures(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, failingModule)
	res, err := run(t, dir, Options{})
	if res == nil {
		t.Fatalf("Run: nil Result, %v", err)
	}
	pkg := fixtureModule + "/a"
	var got []string
	for _, f := range res.Failures {
		got = append(got, f.Package+" "+f.Test)
	}
	// TestG failed only because TestG/sub did, so only the subtest is named.
	if diff := cmp.Diff([]string{pkg + " TestA", pkg + " TestG/sub"}, got); diff != "" {
		t.Errorf("Failures (-want +got):\n%s", diff)
	}
	for _, f := range res.Failures {
		want := map[string]string{"TestA": "boom A", "TestG/sub": "boom sub"}[f.Test]
		if !strings.Contains(f.Output, want) {
			t.Errorf("output of %s = %q, want it to contain %q", f.Test, f.Output, want)
		}
		if strings.Contains(f.Output, "=== RUN") {
			t.Errorf("output of %s keeps framing lines: %q", f.Test, f.Output)
		}
	}
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FailedError", err)
	}
	if want := "2 tests failed: " + pkg + ".TestA, " + pkg + ".TestG/sub"; fe.Error() != want {
		t.Errorf("error = %q, want %q", fe.Error(), want)
	}
	var ce *CoverageError
	if errors.As(err, &ce) {
		t.Errorf("coverage gate is off, got %v", ce)
	}
	// TestOK, TestG/fine pass; TestA, TestG, TestG/sub fail; TestSkip skips.
	if res.Passed != 2 || res.Failed != 3 || res.Skipped != 1 {
		t.Errorf("Passed, Failed, Skipped = %d, %d, %d; want 2, 3, 1", res.Passed, res.Failed, res.Skipped)
	}

	doc := readJUnit(t, res.JUnit)
	if doc.Tests != 6 || doc.Failures != 3 || doc.Skipped != 1 {
		t.Errorf("JUnit tests/failures/skipped = %d/%d/%d, want 6/3/1", doc.Tests, doc.Failures, doc.Skipped)
	}
	a := testcase(t, doc, pkg, "TestA")
	if a.Failure == nil || !strings.Contains(a.Failure.Text, "boom A") || !strings.Contains(a.Failure.Text, "<boom> &") {
		t.Errorf("TestA failure = %+v, want its output", a.Failure)
	}
	if sub := testcase(t, doc, pkg, "TestG/sub"); sub.Failure == nil {
		t.Error("TestG/sub has no <failure>")
	}
	if s := testcase(t, doc, pkg, "TestSkip"); s.Skipped == nil || !strings.Contains(s.Skipped.Message, "not today") {
		t.Errorf("TestSkip skipped = %+v, want the reason", s.Skipped)
	}
	if ok := testcase(t, doc, pkg, "TestOK"); ok.Failure != nil || ok.Skipped != nil {
		t.Errorf("TestOK = %+v, want a plain pass", ok)
	}
}

func TestRunCoverageGate(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"half/half.go": `package half

func Used(x int) int {
	return x + 1
}

func Unused(x int) int {
	y := x * 2
	y++
	return y
}
`,
		"half/half_test.go": "package half\n\nimport \"testing\"\n\nfunc TestUsed(t *testing.T) { Used(1) }\n",
	})
	res, err := run(t, dir, Options{MinCoverage: 80})
	if res == nil {
		t.Fatalf("Run: nil Result, %v", err)
	}
	var ce *CoverageError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *CoverageError", err)
	}
	if diff := cmp.Diff(CoverageError{Got: res.Coverage, Want: 80}, *ce); diff != "" {
		t.Errorf("CoverageError (-want +got):\n%s", diff)
	}
	want := "coverage " + coverFunc(t, dir, res.CoverProfile) + "% is below the 80.0% threshold"
	if ce.Error() != want {
		t.Errorf("error = %q, want %q", ce.Error(), want)
	}
	var fe *FailedError
	if errors.As(err, &fe) {
		t.Errorf("no test failed, got %v", fe)
	}

	// The same run with a gate it meets passes, and by default leaves its
	// reports under the service's .paved directory.
	res2, err := Run(context.Background(), Options{Dir: dir, MinCoverage: res.Coverage, Env: fixtureEnv})
	if err != nil {
		t.Fatalf("Run with MinCoverage = Coverage: %v", err)
	}
	outDir := filepath.Join(dir, ".paved", "test")
	if diff := cmp.Diff([]string{filepath.Join(outDir, JUnitFile), filepath.Join(outDir, CoverageFile)}, []string{res2.JUnit, res2.CoverProfile}); diff != "" {
		t.Errorf("default report paths (-want +got):\n%s", diff)
	}
	for _, p := range []string{res2.JUnit, res2.CoverProfile} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

func TestRunBuildFailure(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, twoPackages)
	res, err := run(t, dir, Options{SkipVet: true})
	if res == nil {
		t.Fatalf("Run: nil Result, %v", err)
	}
	if len(res.Failures) != 1 {
		t.Fatalf("Failures = %+v, want one", res.Failures)
	}
	f := res.Failures[0]
	if f.Package != fixtureModule+"/bad" || f.Test != "" {
		t.Errorf("failure is %q %q, want package %s/bad with no test", f.Package, f.Test, fixtureModule)
	}
	for _, want := range []string{"bad_test.go:6", "cannot use G()"} {
		if !strings.Contains(f.Output, want) {
			t.Errorf("failure output %q does not contain %q", f.Output, want)
		}
	}
	var fe *FailedError
	if !errors.As(err, &fe) || !strings.Contains(fe.Error(), fixtureModule+"/bad") {
		t.Errorf("error = %v, want a *FailedError naming the package", err)
	}
	if res.Packages != 2 || res.Passed != 1 || res.Failed != 1 {
		t.Errorf("Packages, Passed, Failed = %d, %d, %d; want 2, 1, 1", res.Packages, res.Passed, res.Failed)
	}
	c := testcase(t, readJUnit(t, res.JUnit), fixtureModule+"/bad", buildFailedCase)
	if c.Failure == nil || !strings.Contains(c.Failure.Text, "cannot use G()") {
		t.Errorf("JUnit build failure = %+v, want the compiler output", c.Failure)
	}
}

func TestRunVet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, code, want string
		// The printf check is one of go test's own: when go vet is
		// skipped, go test still runs it and the package fails to build.
		failsWithoutVet bool
	}{
		{
			name:            "printf",
			code:            "import \"fmt\"\n\nfunc Say(name string) string {\n\treturn fmt.Sprintf(\"hello %d\", name)\n}\n",
			want:            "wrong type",
			failsWithoutVet: true,
		},
		{
			name: "self-assignment",
			code: "func Say(name string) string {\n\tname = name\n\treturn \"hello \" + name\n}\n",
			want: "self-assignment",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := writeModule(t, map[string]string{
				"v/v.go":      "package v\n\n" + tc.code,
				"v/v_test.go": "package v\n\nimport \"testing\"\n\nfunc TestSay(t *testing.T) { Say(\"x\") }\n",
			})
			res, err := run(t, dir, Options{})
			if res == nil {
				t.Fatalf("Run: nil Result, %v", err)
			}
			var ve *VetError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *VetError", err)
			}
			if len(res.Vet) != 1 || !strings.HasPrefix(res.Vet[0], filepath.FromSlash("v/v.go")+":") || !strings.Contains(res.Vet[0], tc.want) {
				t.Errorf("Vet = %q, want one diagnostic in v/v.go saying %q", res.Vet, tc.want)
			}
			if diff := cmp.Diff(res.Vet, ve.Diagnostics); diff != "" {
				t.Errorf("VetError diagnostics differ from Result.Vet (-result +error):\n%s", diff)
			}
			// go vet reports it once; the tests still run and pass.
			var fe *FailedError
			if errors.As(err, &fe) || res.Passed != 1 {
				t.Errorf("Run: %d passed, error %v; want the test to pass beside the vet finding", res.Passed, err)
			}

			res, err = run(t, dir, Options{SkipVet: true})
			if res == nil {
				t.Fatalf("Run with SkipVet: nil Result, %v", err)
			}
			if len(res.Vet) != 0 || errors.As(err, &ve) {
				t.Errorf("Run with SkipVet: Vet = %q, error %v; want go vet skipped", res.Vet, err)
			}
			if got := errors.As(err, &fe); got != tc.failsWithoutVet {
				t.Errorf("Run with SkipVet: error %v; *FailedError present = %v, want %v (go test's own checks)", err, got, tc.failsWithoutVet)
			}
		})
	}
}

func TestRunSeveralErrors(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, failingModule)
	res, err := run(t, dir, Options{MinCoverage: 101})
	if res == nil {
		t.Fatalf("Run: nil Result, %v", err)
	}
	var fe *FailedError
	var ce *CoverageError
	if !errors.As(err, &fe) || !errors.As(err, &ce) {
		t.Errorf("error %v: want both a *FailedError and a *CoverageError", err)
	}
}

func TestRunCannotRun(t *testing.T) {
	t.Parallel()
	noModule := t.TempDir()
	if err := os.WriteFile(filepath.Join(noModule, "x.go"), []byte("package x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(noModule, "x.go")
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"no go.mod", noModule, "no go.mod"},
		{"missing dir", filepath.Join(noModule, "missing"), "missing"},
		{"not a dir", file, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := run(t, tc.dir, Options{})
			if res != nil || err == nil {
				t.Fatalf("Run = %+v, %v; want nil and an error", res, err)
			}
			if !strings.Contains(err.Error(), tc.dir) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s and say %q", err, tc.dir, tc.want)
			}
		})
	}
}

func TestRunCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{"a/a.go": "package a\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, Options{Dir: dir, OutDir: t.TempDir(), Env: fixtureEnv})
	if res != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, %v; want nil and context.Canceled", res, err)
	}
}

// TestRelative covers vet's replayed diagnostics: with -trimpath a cached
// diagnostic carries the directory of the run that filled the cache.
func TestRelative(t *testing.T) {
	dir := writeModule(t, map[string]string{"v/v.go": "package v\n"})
	for in, want := range map[string]string{
		filepath.Join(dir, "v", "v.go") + ":6:28: bad": filepath.FromSlash("v/v.go") + ":6:28: bad",
		"/tmp/another-run/001/v/v.go:6:28: bad":        filepath.FromSlash("v/v.go") + ":6:28: bad",
		"/tmp/another-run/001/w/gone.go:1:1: bad":      "/tmp/another-run/001/w/gone.go:1:1: bad",
		"v/v.go:6:28: bad":                             "v/v.go:6:28: bad",
		"no colon at all":                              "no colon at all",
	} {
		if got := relative(in, dir); got != want {
			t.Errorf("relative(%q) = %q, want %q", in, got, want)
		}
	}
}
