package python

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// testPython is the interpreter the tests run: $PAVED_PYTHON, else
// Debian's /usr/bin/python3 (python3-pytest, python3-pytest-cov and
// python3-pip give it pytest, pytest-cov and pip), since the python3 on
// PATH may be another one without them.
func testPython(t *testing.T, modules ...string) Interpreter {
	t.Helper()
	py := Interpreter{Path: "/usr/bin/python3"}
	if p := os.Getenv(EnvPython); p != "" {
		py.Path = p
	}
	info, err := py.Describe(context.Background(), modules...)
	if err != nil {
		ci.Unavailable(t, "no python interpreter: %v", err)
	}
	if len(info.Modules) > 0 {
		ci.Unavailable(t, "%s lacks %v (apt-get install python3-pytest python3-pytest-cov python3-pip)", py.Path, info.Modules)
	}
	return py
}

// writeFiles writes name -> content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// wheelhouse builds wheels of small local packages with pip wheel (no
// index, no build isolation: Debian's setuptools and wheel build them), so
// the installation test needs no package index. pkgs maps a distribution
// name to its version and the other distributions it requires.
func wheelhouse(t *testing.T, py Interpreter, pkgs map[string][2]string) string {
	t.Helper()
	src, out := t.TempDir(), t.TempDir()
	var args []string
	for name, v := range pkgs {
		deps := ""
		if v[1] != "" {
			deps = `"` + v[1] + `"`
		}
		mod := strings.ReplaceAll(name, "-", "_") + "_mod"
		writeFiles(t, filepath.Join(src, name), map[string]string{
			"pyproject.toml": "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n" +
				"[project]\nname = \"" + name + "\"\nversion = \"" + v[0] + "\"\ndependencies = [" + deps + "]\n" +
				"[tool.setuptools]\npy-modules = [\"" + mod + "\"]\n",
			mod + ".py": "VERSION = \"" + v[0] + "\"\n",
		})
		args = append(args, filepath.Join(src, name))
	}
	cmd := exec.Command(py.Path, append([]string{"-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "--disable-pip-version-check", "-q", "-w", out}, args...)...)
	cmd.Env = append(os.Environ(), "PIP_NO_CACHE_DIR=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		ci.Unavailable(t, "pip wheel cannot build the test wheels (needs python3-setuptools and python3-wheel): %v\n%s", err, b)
	}
	return out
}

// pipEnv is a pip configuration that installs only from dir.
func pipEnv(dir string) []string {
	return append(os.Environ(), "PIP_NO_INDEX=1", "PIP_FIND_LINKS="+dir, "PIP_NO_CACHE_DIR=1")
}

// addSeeds adds each file matching pattern in testdata/dir to f's seed
// corpus; a pattern that matches nothing fails, so no fuzz test loses its
// seeds to a renamed folder.
func addSeeds(f *testing.F, dir, pattern string) {
	f.Helper()
	seeds, err := filepath.Glob(filepath.Join("testdata", dir, pattern))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/%s/%s: %v", dir, pattern, err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
}
