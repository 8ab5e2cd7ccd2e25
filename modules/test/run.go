package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pavedhq/paved/internal/goflags"
)

// Options says what to test and where to leave the reports.
type Options struct {
	Dir         string   // service directory, inside a Go module
	Packages    []string // package patterns relative to Dir; default ["./..."]
	MinCoverage float64  // required statement coverage in percent; 0 disables the gate
	// OutDir receives junit.xml and coverage.out; it is created if missing.
	// Default: .paved/test under Dir (the go tool ignores dot directories).
	OutDir  string
	Env     []string // extra environment for the go commands (GOCACHE, GOFLAGS ...)
	SkipVet bool
}

// Result is what a test run produced.
type Result struct {
	// Coverage is the statement coverage in percent over all tested
	// packages, as go tool cover -func reports in its "total:" line.
	Coverage float64
	// Passed, Failed and Skipped count test cases as the JUnit report
	// does: subtests count on their own, and a package that failed without
	// a failing test (it did not build) counts as one failure.
	Passed, Failed, Skipped int
	Failures                []Failure // in package order, then run order
	Vet                     []string  // go vet diagnostics (file:line:col: message)
	JUnit                   string    // path of the JUnit XML report
	CoverProfile            string    // path of the coverage profile; "" if go test wrote none
	Packages                int       // packages go test reported on
	Suites                  []Suite   // the per-package detail the JUnit report was made from
}

// Failure is a failed test, or a failed package when Test is "" (it did
// not compile, or its test binary failed outside any test).
type Failure struct {
	Package string
	Test    string
	Output  string // what the test (or the compiler) printed, trimmed to its tail
	// File and Line are where the failure was reported, File relative to
	// Options.Dir and slash-separated: the last "file.go:N:" line the test
	// printed (t.Error's), a panic's frame, or the compiler's first message. "" and 0 when
	// the output names no file that exists there.
	File string
	Line int
}

// Name is "pkg.TestA/sub", or the package alone for a package failure.
func (f Failure) Name() string {
	if f.Test == "" {
		return f.Package
	}
	return f.Package + "." + f.Test
}

// Report file names inside Options.OutDir.
const (
	JUnitFile    = "junit.xml"
	CoverageFile = "coverage.out"
)

// Run vets and tests the packages in opts.Dir with coverage, and writes a
// JUnit report and the coverage profile to opts.OutDir.
//
// When the tests ran, Run returns a Result, together with a *FailedError,
// *VetError or *CoverageError (joined when several apply) if the run did
// not pass. When the go command cannot run at all (Dir missing, not in a
// module, no go on PATH) or ctx is done, it returns only an error.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("test %s: %w", opts.Dir, err)
	}
	dir, err := checkModule(ctx, opts)
	if err != nil {
		return nil, err
	}
	pkgs := opts.Packages
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, "-") {
			return nil, fmt.Errorf("test %s: package pattern %q looks like a flag", dir, p)
		}
	}
	outDir := opts.OutDir
	if outDir == "" {
		outDir = filepath.Join(dir, ".paved", "test")
	}
	if outDir, err = filepath.Abs(outDir); err != nil {
		return nil, fmt.Errorf("test %s: output directory: %w", dir, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("test %s: %w", dir, err)
	}
	profile := filepath.Join(outDir, CoverageFile)
	// A stale profile would be read as this run's if go test writes none.
	if err := os.Remove(profile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("test %s: %w", dir, err)
	}
	// The tests compile as modules/build compiles the shipped binary, cgo
	// off and with the same build flags: what is tested is what ships, and
	// the dependencies compiled for the tests serve go vet, the lint step
	// and the image build from Go's build cache. CGO_ENABLED in opts.Env
	// wins.
	env := append(append(os.Environ(), "CGO_ENABLED=0"), opts.Env...)
	flags, err := goflags.Lookup(ctx, dir, env)
	if err != nil {
		return nil, fmt.Errorf("test %s: %w", dir, err)
	}

	suites, pkgDirs, testErr := goTest(ctx, dir, env, flags, profile, pkgs, !opts.SkipVet)
	var (
		vetDiag []string
		vetErr  error
	)
	if !opts.SkipVet && ctx.Err() == nil {
		// After the tests, not beside them: vet then finds every dependency
		// compiled, where side by side both would compile them.
		vetDiag, vetErr = vet(ctx, dir, env, flags, pkgs)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("test %s: %w", dir, err)
	}
	if testErr != nil && suites == nil {
		return nil, testErr
	}

	res := &Result{
		Suites:   suites,
		Packages: len(suites),
		Failures: failuresOf(suites),
		Vet:      vetDiag,
		JUnit:    filepath.Join(outDir, JUnitFile),
	}
	for i := range res.Failures {
		locate(&res.Failures[i], dir, pkgDirs)
	}
	count(res)
	if err := writeJUnit(res.JUnit, suites); err != nil {
		return nil, fmt.Errorf("test %s: %w", dir, err)
	}

	errs := []error{testErr}
	if len(res.Failures) > 0 {
		errs = append(errs, &FailedError{Failures: res.Failures})
	}
	if vetErr != nil {
		errs = append(errs, vetErr)
	} else if len(vetDiag) > 0 {
		errs = append(errs, &VetError{Diagnostics: vetDiag})
	}
	switch cov, err := coverageOf(profile); {
	case err == nil:
		res.Coverage, res.CoverProfile = cov, profile
	case errors.Is(err, os.ErrNotExist):
		// Nothing compiled, so nothing was covered.
	default:
		errs = append(errs, fmt.Errorf("test %s: %w", dir, err))
	}
	if opts.MinCoverage > 0 && res.Coverage < opts.MinCoverage {
		errs = append(errs, &CoverageError{Got: res.Coverage, Want: opts.MinCoverage})
	}
	return res, errors.Join(errs...)
}

// checkModule fails early, naming the directory, when the go command could
// not run there at all; afterwards any go command failure is a test result.
func checkModule(ctx context.Context, opts Options) (string, error) {
	if opts.Dir == "" {
		return "", errors.New("test: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return "", fmt.Errorf("test %s: %w", opts.Dir, err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("test %s: %w", dir, err)
	} else if !fi.IsDir() {
		return "", fmt.Errorf("test %s: not a directory", dir)
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("test %s: %w", dir, err)
	}
	cmd := exec.CommandContext(ctx, "go", "env", "GOMOD")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), opts.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("test %s: go env: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	if gomod := strings.TrimSpace(string(out)); gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("test %s: not inside a Go module (no go.mod)", dir)
	}
	return dir, nil
}

// goTest runs go test -json and feeds its stream to a Collector as it
// arrives, and returns the suites with the directory of each package it
// listed. It returns an error only when go test produced no results at
// all: then the go command itself failed.
//
// fullVet says go vet runs afterwards. Its checks include all of go test's
// own, but under other flags, so go test's would analyse every dependency
// a second time (a quarter of the CPU of an empty-cache run): they are
// turned off. Without go vet, go test keeps them.
func goTest(ctx context.Context, dir string, env, flags []string, profile string, pkgs []string, fullVet bool) ([]Suite, map[string]string, error) {
	args := append([]string{"test", "-json"}, flags...)
	args = append(args, "-covermode=atomic", "-coverprofile="+profile)
	if fullVet {
		args = append(args, "-vet=off")
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	stderr := &tailWriter{}
	cmd.Stderr = stderr
	stop := inProcessGroup(cmd)
	defer stop()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("go test in %s: %w", dir, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("go test in %s: %w", dir, err)
	}
	var c Collector
	stray := &tailWriter{}
	readErr := readLines(stdout, func(line []byte) {
		if line == nil {
			return
		}
		e, err := ParseEvent(line)
		if err != nil {
			// Not an event: keep it in case go test failed before testing.
			stray.Write(append(line, '\n'))
			return
		}
		c.Add(e)
	})
	if readErr != nil {
		// Keep draining so the go command is not blocked on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
	}
	waitErr := cmd.Wait()
	suites := c.Suites()
	msg := strings.TrimSpace(stray.String() + stderr.String())
	if len(suites) == 0 {
		if waitErr == nil && readErr == nil {
			return suites, nil, nil // no packages matched: nothing to test, nothing failed
		}
		return nil, nil, fmt.Errorf("go test in %s: %w: %s", dir, errors.Join(waitErr, readErr), msg)
	}
	// Every package go test was asked for must say how it ended: one that
	// never did (the go command died, its binary was never run) failed.
	dirs, err := listPackages(ctx, dir, env, pkgs)
	if err != nil {
		return nil, nil, err
	}
	reported := map[string]bool{}
	for i, s := range suites {
		reported[s.Package] = true
		if s.Status == "" && !s.BuildFailed {
			suites[i].Status = Fail
			suites[i].Output = strings.TrimLeft(s.Output+"\n"+noResult, "\n")
		}
	}
	for _, p := range slices.Sorted(maps.Keys(dirs)) {
		if !reported[p] {
			suites = append(suites, Suite{Package: p, Status: Fail, Output: noResult})
		}
	}
	sort.SliceStable(suites, func(i, j int) bool { return suites[i].Package < suites[j].Package })
	if waitErr != nil || readErr != nil {
		// go test failed: unless a package failed to say why, the step
		// fails on the exit status alone.
		if len(failuresOf(suites)) == 0 {
			return suites, dirs, fmt.Errorf("go test in %s: %w, and no package reported a failure: %s", dir, errors.Join(waitErr, readErr), msg)
		}
	}
	return suites, dirs, nil
}

const noResult = "go test reported no result for this package"

// listPackages names the packages that pkgs match, as go test sees them,
// with their directories.
func listPackages(ctx context.Context, dir string, env []string, pkgs []string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-f", "{{.ImportPath}}\t{{.Dir}}"}, pkgs...)...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	dirs := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if ip, d, _ := strings.Cut(l, "\t"); ip != "" {
			dirs[ip] = d
		}
	}
	return dirs, nil
}

// vet runs go vet and returns its diagnostics, or an error when vet failed
// without saying why.
func vet(ctx context.Context, dir string, env, flags []string, pkgs []string) ([]string, error) {
	args := append(append([]string{"vet"}, flags...), pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	out := &tailWriter{}
	cmd.Stderr = out
	cmd.Stdout = out
	stop := inProcessGroup(cmd)
	defer stop()
	err := cmd.Run()
	if err == nil {
		return nil, nil // warnings such as "matched no packages" are not problems
	}
	diags := parseVet(out.String())
	if len(diags) == 0 {
		return nil, fmt.Errorf("go vet in %s: %w: %s", dir, err, strings.TrimSpace(out.String()))
	}
	for i, d := range diags {
		diags[i] = relative(d, dir)
	}
	return diags, nil
}

// relative names a diagnostic's file relative to dir, as people read it.
// With -trimpath, vet names files by absolute path, and replays a cached
// diagnostic with the path of the directory it first ran in (the cache key
// holds the files' contents, not their place): the file is found again
// under dir by the longest tail of that path that exists there.
func relative(diag, dir string) string {
	file, rest, ok := strings.Cut(diag, ":")
	if !ok || !filepath.IsAbs(file) {
		return diag
	}
	parts := strings.Split(filepath.ToSlash(file), "/")
	for i := 1; i < len(parts); i++ {
		rel := filepath.Join(parts[i:]...)
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return rel + ":" + rest
		}
	}
	return diag
}

// parseVet turns go vet's output into one entry per diagnostic: "# pkg"
// headers go, the "vet: " prefix on type errors goes, and indented
// continuation lines stay with the diagnostic they continue.
func parseVet(out string) []string {
	var diags []string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.TrimSpace(l) == "", strings.HasPrefix(l, "#"):
		case (strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ")) && len(diags) > 0:
			diags[len(diags)-1] += "\n" + l
		default:
			diags = append(diags, strings.TrimPrefix(l, "vet: "))
		}
	}
	return diags
}

func count(res *Result) {
	for _, s := range res.Suites {
		failed := 0
		for _, tc := range s.Cases {
			switch {
			case failedCase(tc):
				failed++
			case tc.Status == Skip:
				res.Skipped++
			default:
				res.Passed++
			}
		}
		if (s.Status == Fail || s.BuildFailed) && failed == 0 {
			failed = 1 // the package itself, as in the JUnit report
		}
		res.Failed += failed
	}
}

func writeJUnit(path string, suites []Suite) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteJUnit(f, suites); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// tailWriter keeps the tail of what is written to it, for error messages.
type tailWriter struct {
	mu sync.Mutex
	t  tail
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.write(string(p))
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t.String()
}
