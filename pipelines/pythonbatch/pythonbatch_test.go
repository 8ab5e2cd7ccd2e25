package pythonbatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for n, c := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPathRefusesBadSettings(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		ci.Unavailable(t, "no /usr/bin/python3")
	}
	t.Setenv("PAVED_PYTHON", "/usr/bin/python3")
	job := map[string]string{"job/__init__.py": "", "job/__main__.py": "print(1)\n"}
	for name, tc := range map[string]struct {
		files map[string]string
		opts  pipelines.Options
		field string
		msg   string
	}{
		"unpinned lock":                 {map[string]string{"requirements.txt": "six==1.16.0\ntoml\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "requirements.txt:2"},
		"no lock for pyproject":         {map[string]string{"pyproject.toml": "[project]\ndependencies = [\"toml\"]\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "no lock"},
		"git source in uv.lock":         {map[string]string{"pyproject.toml": "[project]\ndependencies = [\"toml\"]\n", "uv.lock": uvLock(`{ git = "https://git.example/toml?rev=1#1" }`)}, pipelines.Options{}, "paved.yaml: job.requirements", "package toml"},
		"git source in poetry.lock":     {map[string]string{"pyproject.toml": poetryProject, "poetry.lock": poetryLock("[package.source]\ntype = \"git\"\nurl = \"https://git.example/toml\"\nreference = \"main\"\n")}, pipelines.Options{}, "paved.yaml: job.requirements", "package toml"},
		"poetry.lock without pyproject": {map[string]string{"paved.yaml": "job:\n  requirements: locks/poetry.lock\n", "locks/poetry.lock": poetryLock("")}, pipelines.Options{}, "paved.yaml: job.requirements", "pyproject.toml"},
		"uv.lock and poetry.lock":       {map[string]string{"pyproject.toml": poetryProject, "poetry.lock": poetryLock(""), "uv.lock": uvLock(`{ registry = "https://pypi.org/simple" }`)}, pipelines.Options{}, "paved.yaml: job.requirements", "name the one to install"},
		"pdm's lock":                    {map[string]string{"pyproject.toml": "[project]\ndependencies = [\"toml\"]\n", "pdm.lock": "[metadata]\nlock_version = \"4.5.0\"\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "pdm export"},
		"no lock for poetry pyproject":  {map[string]string{"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.11\"\ntoml = \"^0.10\"\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "poetry lock"},
		"named lock missing":            {map[string]string{"paved.yaml": "job:\n  requirements: locks/prod.txt\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "prod.txt"},
		"no module to run":              {map[string]string{"job/__main__.py": "", "other/__main__.py": ""}, pipelines.Options{}, "paved.yaml: job.module", "found 2"},
		"foreign platform, no base":     {nil, pipelines.Options{Platforms: []string{"linux/s390x"}}, "--platform", "this machine's Python"},
		"CronJob name":                  {map[string]string{"paved.yaml": "service: Nightly_Report\njob:\n  schedule: \"@daily\"\n"}, pipelines.Options{}, "paved.yaml: service", "DNS label"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, job)
			write(t, dir, tc.files)
			tc.opts.Source = dir
			_, err := Path(context.Background(), tc.opts)
			var ce *pipelines.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("got %v, want a ConfigError naming %s with %q", err, tc.field, tc.msg)
			}
		})
	}
}

func TestPathPlansTheGraph(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"job/__init__.py": "", "job/__main__.py": "", "requirements.txt": "six==1.16.0\n",
		"paved.yaml": "service: nightly\nbase: registry.example/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nplatforms: [linux/amd64, linux/arm64]\njob:\n  schedule: \"@daily\"\n"})
	r, err := Path(context.Background(), pipelines.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Graph.Steps(), ","); got != "deps,test,build,sbom,scan,publish,manifests" {
		t.Errorf("steps %s", got)
	}
}

// uvLock is a uv.lock for a project that needs toml from src.
func uvLock(src string) string {
	return "version = 1\nrequires-python = \">=3.9\"\n\n" +
		"[[package]]\nname = \"job\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"toml\" }]\n\n" +
		"[[package]]\nname = \"toml\"\nversion = \"0.10.2\"\nsource = " + src + "\n" +
		"wheels = [{ url = \"https://files.example/toml-0.10.2-py2.py3-none-any.whl\", hash = \"sha256:806143ae5bfb6a3c6e736a764057db0e6a0e05e338b5630894a5f779cabb4f9b\" }]\n"
}

func TestPathReadsUVLock(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"job/__init__.py": "", "job/__main__.py": "",
		"pyproject.toml": "[project]\nname = \"job\"\ndependencies = [\"toml\"]\n",
		"uv.lock":        uvLock(`{ registry = "https://pypi.org/simple" }`),
		"paved.yaml":     "service: nightly\nbase: registry.example/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\njob:\n  schedule: \"@daily\"\n"})
	deps := depsStepIn(t, dir)
	if want := filepath.Join(dir, "uv.lock"); deps.lock != want {
		t.Errorf("deps installs %q, want %q", deps.lock, want)
	}
	// The step's key follows the lock's bytes.
	before, err := deps.Key(context.Background(), runner.Inputs{})
	if err != nil {
		ci.Unavailable(t, "no interpreter to key with: %v", err)
	}
	write(t, dir, map[string]string{"uv.lock": uvLock(`{ registry = "https://pypi.org/simple" }`) + "\n# changed\n"})
	after, err := deps.Key(context.Background(), runner.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Error("the deps key did not change with uv.lock")
	}
}

// poetryProject and poetryLock are a Poetry project that needs toml; rest
// is added to toml's [[package]] (a source, say).
const poetryProject = "[project]\nname = \"job\"\ndependencies = [\"toml (>=0.10.2,<0.11.0)\"]\n"

func poetryLock(rest string) string {
	return "[[package]]\nname = \"toml\"\nversion = \"0.10.2\"\ndescription = \"Python Library for Tom's Obvious, Minimal Language\"\noptional = false\n" +
		"python-versions = \">=2.6, !=3.0.*, !=3.1.*, !=3.2.*\"\ngroups = [\"main\"]\n" +
		"files = [\n    {file = \"toml-0.10.2-py2.py3-none-any.whl\", hash = \"sha256:806143ae5bfb6a3c6e736a764057db0e6a0e05e338b5630894a5f779cabb4f9b\"},\n]\n" + rest +
		"\n[metadata]\nlock-version = \"2.1\"\npython-versions = \">=3.9\"\ncontent-hash = \"00\"\n"
}

func TestPathReadsPoetryLock(t *testing.T) {
	const paved = "service: nightly\nbase: registry.example/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\njob:\n  schedule: \"@daily\"\n"
	for name, files := range map[string]map[string]string{
		"found":          {"pyproject.toml": poetryProject, "poetry.lock": poetryLock(""), "paved.yaml": paved},
		"named, by uv's": {"pyproject.toml": poetryProject, "poetry.lock": poetryLock(""), "uv.lock": uvLock(`{ git = "https://git.example/toml?rev=1#1" }`), "paved.yaml": paved + "  requirements: poetry.lock\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{"job/__init__.py": "", "job/__main__.py": ""})
			write(t, dir, files)
			deps := depsStepIn(t, dir)
			if want := filepath.Join(dir, "poetry.lock"); deps.lock != want {
				t.Errorf("deps installs %q, want %q", deps.lock, want)
			}
			// The step's key follows the lock's bytes, and pyproject.toml's:
			// the project's dependencies are the roots of the lock's graph.
			key := func() string {
				k, err := deps.Key(context.Background(), runner.Inputs{})
				if err != nil {
					ci.Unavailable(t, "no interpreter to key with: %v", err)
				}
				return k
			}
			before := key()
			write(t, dir, map[string]string{"poetry.lock": poetryLock("") + "\n# changed\n"})
			afterLock := key()
			if before == afterLock {
				t.Error("the deps key did not change with poetry.lock")
			}
			write(t, dir, map[string]string{"pyproject.toml": poetryProject + "[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n"})
			if key() == afterLock {
				t.Error("the deps key did not change with pyproject.toml")
			}
		})
	}
}

// depsStepIn is the deps step of the path for the job in dir.
func depsStepIn(t *testing.T, dir string) *depsStep {
	t.Helper()
	r, err := Path(context.Background(), pipelines.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	deps, ok := r.Graph.Step("deps").(*depsStep)
	if !ok {
		t.Fatalf("deps step %T", r.Graph.Step("deps"))
	}
	return deps
}
