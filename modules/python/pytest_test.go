package python

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/modules/test"
)

// job is a small batch job: one function tested, one not.
var job = map[string]string{
	"job/__init__.py": "",
	"job/report.py": `def total(xs):
    return sum(xs)


def mean(xs):
    if not xs:
        return 0
    return total(xs) / len(xs)
`,
	"tests/test_report.py": `from job.report import total, mean


def test_total():
    assert total([1, 2, 3]) == 6


def test_mean():
    assert mean([2, 4]) == 3
    assert mean([]) == 0
`,
}

func TestPytestPassesWithCoverage(t *testing.T) {
	py := testPython(t, "pytest", "pytest_cov")
	dir, out := t.TempDir(), t.TempDir()
	writeFiles(t, dir, job)
	res, err := Test(context.Background(), TestOptions{Python: py, Dir: dir, MinCoverage: 80, OutDir: out, Env: os.Environ()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passed != 2 || res.Failed != 0 || res.Coverage != 100 {
		t.Errorf("passed %d failed %d coverage %.1f, want 2, 0, 100", res.Passed, res.Failed, res.Coverage)
	}
	for _, p := range []string{res.JUnit, res.Cobertura} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
	// Nothing written into the source: it is hashed and laid into the image.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if n := d.Name(); n == "__pycache__" || n == ".pytest_cache" || n == ".coverage" {
			t.Errorf("the test run wrote %s into the source", p)
		}
		return nil
	})
}

func TestPytestFailureNamesTheTest(t *testing.T) {
	py := testPython(t, "pytest", "pytest_cov")
	dir := t.TempDir()
	writeFiles(t, dir, job)
	writeFiles(t, dir, map[string]string{"tests/test_broken.py": "from job.report import total\n\n\ndef test_total_of_nothing():\n    assert total([]) == 1\n"})
	res, err := Test(context.Background(), TestOptions{Python: py, Dir: dir, OutDir: t.TempDir(), Env: os.Environ()})
	var fe *test.FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a FailedError", err)
	}
	if !strings.Contains(err.Error(), "tests.test_broken.test_total_of_nothing") {
		t.Errorf("the error does not name the test: %v", err)
	}
	if res == nil || res.Failed != 1 || res.Passed != 2 || len(res.Failures) != 1 {
		t.Fatalf("result %+v", res)
	}
	if f := res.Failures[0]; f.File != "tests/test_broken.py" || f.Line != 5 || !strings.Contains(f.Output, "assert 0 == 1") {
		t.Errorf("failure at %s:%d with output %q", f.File, f.Line, f.Output)
	}
}

func TestPytestCoverageGateGivesTheFigure(t *testing.T) {
	py := testPython(t, "pytest", "pytest_cov")
	dir := t.TempDir()
	writeFiles(t, dir, job)
	// Only total is tested: mean's four lines are not.
	writeFiles(t, dir, map[string]string{"tests/test_report.py": "from job.report import total\n\n\ndef test_total():\n    assert total([1]) == 1\n"})
	res, err := Test(context.Background(), TestOptions{Python: py, Dir: dir, MinCoverage: 90, OutDir: t.TempDir(), Env: os.Environ()})
	var ce *test.CoverageError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a CoverageError", err)
	}
	// 3 of 6 statements: the two defs (run at import) and total's body.
	if res.Coverage != 50 || ce.Got != res.Coverage || ce.Want != 90 || !strings.Contains(err.Error(), "% is below the 90.0% threshold") {
		t.Errorf("coverage %.1f, error %v", res.Coverage, err)
	}
}

func TestPytestCollectionErrorNamesTheModule(t *testing.T) {
	py := testPython(t, "pytest", "pytest_cov")
	dir := t.TempDir()
	writeFiles(t, dir, job)
	writeFiles(t, dir, map[string]string{"tests/test_imports.py": "import job.absent\n"})
	_, err := Test(context.Background(), TestOptions{Python: py, Dir: dir, OutDir: t.TempDir(), Env: os.Environ()})
	if err == nil || !strings.Contains(err.Error(), "test_imports") {
		t.Fatalf("got %v, want an error naming the module that failed to import", err)
	}
}

func TestPytestWithoutPytestCov(t *testing.T) {
	_, err := Test(context.Background(), TestOptions{Python: Interpreter{Path: "/nonexistent/python3"}, Dir: t.TempDir(), OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), EnvPython) {
		t.Fatalf("got %v, want an error saying how to name an interpreter", err)
	}
}

func TestDefaultPackages(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"job/__init__.py": "", "tools.py": "", "conftest.py": "", "tests/__init__.py": "", "test_x.py": "", "docs/x.md": "", ".venv/x.py": "", "lib/__init__.py": ""})
	got, err := DefaultPackages(dir)
	if err != nil || strings.Join(got, ",") != "job,lib,tools" {
		t.Errorf("got %v %v", got, err)
	}
}
