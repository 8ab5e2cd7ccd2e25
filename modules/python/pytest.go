package python

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pavedhq/paved/modules/test"
)

// TestOptions says what to test.
type TestOptions struct {
	Python Interpreter
	Dir    string // the job's source: pytest's root and working directory
	// Deps is the directory the dependencies were installed into; it goes
	// on PYTHONPATH ahead of Dir, as in the image.
	Deps string
	// Packages are what coverage measures: packages or modules, relative
	// to Dir. Default: every top-level package and module but the tests.
	Packages    []string
	MinCoverage float64 // percent; 0 turns the gate off
	OutDir      string  // receives junit.xml and coverage.xml
	Env         []string
}

// TestResult is what a pytest run produced.
type TestResult struct {
	Cases
	Coverage  float64 // percent, as coverage.py totals it
	JUnit     string  // path of the JUnit XML report
	Cobertura string  // path of the Cobertura XML coverage report
}

// Report file names inside TestOptions.OutDir.
const (
	JUnitFile     = test.JUnitFile
	CoberturaFile = "coverage.xml"
)

// Test runs pytest with coverage (pytest-cov) in opts.Dir.
//
// When the tests ran, it returns a TestResult, with a *test.FailedError
// naming the failed tests and a *test.CoverageError with the figure when
// coverage is under the gate (joined when both apply). When pytest could
// not run or collect the tests, it returns only an error saying why.
func Test(ctx context.Context, opts TestOptions) (*TestResult, error) {
	if _, err := opts.Python.require(ctx, "pytest", "pytest_cov"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, err
	}
	pkgs := opts.Packages
	if len(pkgs) == 0 {
		var err error
		if pkgs, err = DefaultPackages(opts.Dir); err != nil {
			return nil, err
		}
	}
	res := &TestResult{JUnit: filepath.Join(opts.OutDir, JUnitFile), Cobertura: filepath.Join(opts.OutDir, CoberturaFile)}
	for _, p := range []string{res.JUnit, res.Cobertura} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	args := []string{"-m", "pytest", "--rootdir", opts.Dir, "-p", "no:cacheprovider", "-o", "junit_family=xunit1",
		"--junitxml", res.JUnit, "--cov-report", "xml:" + res.Cobertura, "--no-header", "-q"}
	for _, p := range pkgs {
		args = append(args, "--cov", p)
	}
	cmd := exec.CommandContext(ctx, opts.Python.Path, args...)
	cmd.Dir = opts.Dir
	path := opts.Dir
	if opts.Deps != "" {
		path = opts.Deps + string(os.PathListSeparator) + opts.Dir
	}
	// No bytecode or coverage data in the source: it is hashed for the
	// step keys and laid into the image.
	cmd.Env = append(withoutPythonPath(opts.Env), "PYTHONPATH="+path, "PYTHONDONTWRITEBYTECODE=1",
		"COVERAGE_FILE="+filepath.Join(opts.OutDir, ".coverage"))
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(runErr, &ee):
		code = ee.ExitCode()
	case runErr != nil:
		return nil, fmt.Errorf("running pytest: %w", runErr)
	}
	cases, jerr := junitOf(res.JUnit)
	if jerr != nil {
		if code == 5 {
			return nil, fmt.Errorf("pytest collected no tests in %s", opts.Dir)
		}
		return nil, fmt.Errorf("pytest exited with status %d and wrote no JUnit report: %s", code, strings.TrimSpace(out.String()))
	}
	res.Cases = cases
	var errs []error
	if cases.Failed > 0 {
		errs = append(errs, &test.FailedError{Failures: cases.Failures})
	} else if code != 0 {
		msg := strings.TrimSpace(out.String())
		if code == 5 {
			msg = "no tests were collected"
		}
		return nil, fmt.Errorf("pytest exited with status %d: %s", code, msg)
	}
	cov, cerr := coverageOf(res.Cobertura)
	switch {
	case cerr != nil && len(errs) == 0:
		return nil, fmt.Errorf("pytest-cov wrote no usable coverage report: %w", cerr)
	case cerr == nil:
		res.Coverage = cov.Percent()
		if cov.LinesValid == 0 && opts.MinCoverage > 0 {
			errs = append(errs, fmt.Errorf("coverage measured no lines in %s: name the code to measure in test.packages", strings.Join(pkgs, ", ")))
		} else if opts.MinCoverage > 0 && res.Coverage < opts.MinCoverage {
			errs = append(errs, &test.CoverageError{Got: res.Coverage, Want: opts.MinCoverage})
		}
	default:
		res.Cobertura = ""
	}
	return res, errors.Join(errs...)
}

func withoutPythonPath(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PYTHONPATH=") && !strings.HasPrefix(kv, "COVERAGE_FILE=") {
			out = append(out, kv)
		}
	}
	return out
}

// DefaultPackages is what coverage measures when paved.yaml names nothing:
// the top-level packages (directories with __init__.py) and modules of dir,
// but not tests (test*, *_test.py, conftest.py) or hidden entries.
func DefaultPackages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pkgs []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || strings.HasPrefix(n, "test") || n == "conftest.py" || n == "setup.py" {
			continue
		}
		switch {
		case e.IsDir():
			if _, err := os.Stat(filepath.Join(dir, n, "__init__.py")); err == nil {
				pkgs = append(pkgs, n)
			}
		case strings.HasSuffix(n, ".py") && !strings.HasSuffix(n, "_test.py"):
			pkgs = append(pkgs, strings.TrimSuffix(n, ".py"))
		}
	}
	sort.Strings(pkgs)
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s holds no Python package or module to measure coverage of: name them in test.packages", dir)
	}
	return pkgs, nil
}
