package pythonbatch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/internal/atomicfile"
	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/cronjob"
	"github.com/pavedhq/paved/modules/python"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

func init() {
	pipelines.Register("python-batch", Path, true)
}

// Where the image keeps the job.
const (
	AppDir  = "/app"               // the job's source
	DepsDir = "/app/site-packages" // its dependencies (pip install --target)
)

// DefaultRequirements is the lock paved reads when paved.yaml names none.
const DefaultRequirements = "requirements.txt"

// Path is the golden path: deps, then test and build side by side; SBOM
// and scan of the image; publish when all pass; sign and attest; and the
// CronJob manifest for the published digest.
func Path(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	r, err := pipelines.Prepare(ctx, "python-batch", o)
	if err != nil {
		return nil, err
	}
	cfg, dir := r.Config, r.Context.Dir
	py := &interpreter{Interpreter: python.DefaultInterpreter()}

	lock, err := lockFile(dir, cfg.Job.Requirements)
	if err != nil {
		return nil, err
	}
	entrypoint, err := entrypointOf(dir, cfg.Job)
	if err != nil {
		return nil, err
	}
	cov := *cfg.Test.Coverage
	if o.MinCoverage != nil {
		cov = *o.MinCoverage
		if cov < 0 || cov > 100 {
			return nil, &pipelines.ConfigError{Field: "--coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", cov)}
		}
	}
	baseRef, baseField := cfg.Base, pipelines.ConfigFile+": base"
	if o.Base != "" {
		baseRef, baseField = o.Base, "--base"
	}
	platforms := cfg.Platforms
	platformField := pipelines.ConfigFile + ": platforms"
	if len(o.Platforms) > 0 {
		platforms, platformField = o.Platforms, "--platform"
	}
	var runtimeFrom *interpreter
	if baseRef == "" || baseRef == "paved" || baseRef == HostBase {
		// No Python base: the image carries the interpreter the tests run
		// with, on paved's minimal base, for this machine's platform.
		info, err := py.describe(ctx)
		if err != nil {
			return nil, &pipelines.ConfigError{Field: baseField, Msg: fmt.Sprintf("no Python base is set and %v: set base: to a Python image pinned by digest", err)}
		}
		runtimeFrom, baseRef = py, "paved"
		host := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}.String()
		if len(o.Platforms) == 0 {
			platforms = []string{host}
		}
		for _, p := range platforms {
			if p != host {
				return nil, &pipelines.ConfigError{Field: platformField, Msg: fmt.Sprintf("%s: without a base the image carries this machine's Python, which runs on %s only; set base: to a multi-platform Python image", p, host)}
			}
		}
		entrypoint = hostEntrypoint(entrypoint, info.Executable)
		r.Warnings = append(r.Warnings, fmt.Sprintf("no base set: the image carries this machine's Python (%s %s) for %s only; pin a Python base image by digest for production (base: in paved.yaml or --base)",
			info.Executable, info.Version, strings.Join(platforms, ", ")))
	}
	ps, err := pipelines.ParsePlatforms(platforms)
	if err != nil {
		return nil, &pipelines.ConfigError{Field: platformField, Msg: err.Error()}
	}
	base, err := build.ParseBase(baseRef)
	if err != nil {
		return nil, &pipelines.ConfigError{Field: baseField, Msg: err.Error()}
	}
	if cfg.Job.Schedule != "" {
		if err := (cronjob.Spec{Name: r.ServiceName(), Image: placeholder, Schedule: "@daily"}).Validate(); err != nil {
			return nil, &pipelines.ConfigError{Field: pipelines.ConfigFile + ": service", Msg: fmt.Sprintf("%q names the CronJob: %v", r.ServiceName(), err)}
		}
	}
	var packages []string
	if len(cfg.Test.Packages) > 0 && !(len(cfg.Test.Packages) == 1 && cfg.Test.Packages[0] == "./...") {
		packages = cfg.Test.Packages
	}

	g := &runner.Graph{}
	g.Add(&depsStep{dir: dir, lock: lock, py: py})
	g.Add(&testStep{dir: dir, py: py, packages: packages, min: cov, env: cfg.Test.Env}, "deps")
	g.Add(&buildStep{dir: dir, base: base, runtime: runtimeFrom, platforms: ps, entrypoint: entrypoint, created: r.Context.Changed,
		annotations: goservice.ImageAnnotations(r.Context, r.Config.Service, goservice.CommitVersion(r.Context))}, "deps")
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	if err := goservice.AddDelivery(r, o, g, goservice.Delivery{
		Key:       func(ctx context.Context, step string) (*runner.KeyBuilder, error) { return sourceKey(step, dir) },
		Needs:     []string{"test"},
		Platforms: names,
		Main:      strings.Join(entrypoint, " "),
	}); err != nil {
		return nil, err
	}
	if cfg.Job.Schedule != "" {
		g.Add(&manifestStep{job: cfg.Job, name: r.ServiceName()}, "publish")
	} else {
		r.Warnings = append(r.Warnings, "no CronJob manifest: paved.yaml's job.schedule is not set")
	}
	r.Graph = g
	fill := goservice.Fill(r)
	r.Fill = func(rep *runner.Report, out *runner.Outcome) error {
		err := fill(rep, out)
		if res := out.Results["manifests"]; res != nil {
			err = errors.Join(err, exportFile(res, CronJobFile, filepath.Join(r.OutputDir, "manifests", CronJobFile)))
		}
		return err
	}
	return r, nil
}

// exportFile copies a step's file to the run's output directory, where CI
// and the GitOps repository's tooling pick it up.
func exportFile(res *runner.Result, file, dst string) error {
	b, err := os.ReadFile(filepath.Join(res.Dir, file))
	if err != nil {
		return fmt.Errorf("exporting %s: %w", file, err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(dst, b, 0o644)
}

// HostBase (base: host) asks for an image that carries this machine's
// Python on paved's minimal base, as no base at all does.
const HostBase = "host"

// hostEntrypoint points an entrypoint that starts with python or python3
// at the host interpreter's path in the image.
func hostEntrypoint(ep []string, executable string) []string {
	if len(ep) > 0 && (ep[0] == "python3" || ep[0] == "python") {
		return append([]string{executable}, ep[1:]...)
	}
	return ep
}

const placeholder = "example.invalid/job@sha256:0000000000000000000000000000000000000000000000000000000000000000"

// lockFile is the lock's path (a requirements file, a uv.lock or a
// poetry.lock), or "" when the job has no dependencies.
func lockFile(dir, name string) (string, error) {
	field := pipelines.ConfigFile + ": job.requirements"
	if name == "" {
		name = DefaultRequirements
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			// uv's and Poetry's locks are read as they are, so neither
			// project needs an export.
			_, uvErr := os.Stat(filepath.Join(dir, python.UVLockFile))
			_, poetryErr := os.Stat(filepath.Join(dir, python.PoetryLockFile))
			switch {
			case uvErr == nil && poetryErr == nil:
				return "", &pipelines.ConfigError{Field: field, Msg: "there is both a uv.lock and a poetry.lock: name the one to install (job.requirements: uv.lock or poetry.lock)"}
			case uvErr == nil:
				name = python.UVLockFile
			case poetryErr == nil:
				name = python.PoetryLockFile
			default:
				if _, err := os.Stat(filepath.Join(dir, "pdm.lock")); err == nil {
					return "", &pipelines.ConfigError{Field: field, Msg: "paved does not read pdm.lock: export it with its hashes (pdm export --format requirements --prod -o requirements.txt) and commit requirements.txt, or name that file in job.requirements"}
				}
				if pyprojectHasDependencies(filepath.Join(dir, "pyproject.toml")) {
					return "", &pipelines.ConfigError{Field: field, Msg: "pyproject.toml lists dependencies but there is no lock: lock them with uv lock or poetry lock (paved reads uv.lock and poetry.lock), or write requirements.txt with every version pinned (pip-compile --generate-hashes pyproject.toml)"}
				}
				return "", nil
			}
		}
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	if base := filepath.Base(p); base == python.UVLockFile || base == python.PoetryLockFile {
		// A package pip could not check by hash is a setting to fix.
		if _, err := python.ConvertLock(p); err != nil {
			return "", &pipelines.ConfigError{Field: field, Msg: err.Error()}
		}
		return p, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", &pipelines.ConfigError{Field: field, Msg: err.Error()}
	}
	defer f.Close()
	// An unpinned line is a setting to fix, not a failed run.
	if _, err := python.ParseRequirements(name, f); err != nil {
		return "", &pipelines.ConfigError{Field: field, Msg: err.Error()}
	}
	return p, nil
}

// pyprojectHasDependencies is a cheap look at pyproject.toml: a
// non-empty dependencies array in it, or a [tool.poetry.dependencies]
// table with more than python.
func pyprojectHasDependencies(p string) bool {
	b, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	table := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			header, _, _ := strings.Cut(line, "#")
			table = strings.Join(strings.Fields(header), "")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.Trim(strings.TrimSpace(k), `"'`)
		switch {
		case !ok || strings.HasPrefix(k, "#"):
		case k == "dependencies" && strings.TrimSpace(v) != "[]":
			return true
		case table == "[tool.poetry.dependencies]" && k != "python":
			return true
		}
	}
	return false
}

// entrypointOf is the image's entrypoint: job.entrypoint, else python3 -m
// job.module, else python3 -m the one top-level package with __main__.py.
func entrypointOf(dir string, job pipelines.JobConfig) ([]string, error) {
	if len(job.Entrypoint) > 0 {
		return job.Entrypoint, nil
	}
	mod := job.Module
	if mod == "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
		}
		var found []string
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				if _, err := os.Stat(filepath.Join(dir, e.Name(), "__main__.py")); err == nil {
					found = append(found, e.Name())
				}
			}
		}
		if len(found) != 1 {
			return nil, &pipelines.ConfigError{Field: pipelines.ConfigFile + ": job.module", Msg: fmt.Sprintf("name the module the job runs (python3 -m MODULE): found %d top-level packages with a __main__.py (%s)", len(found), strings.Join(found, ", "))}
		}
		mod = found[0]
	}
	return []string{"python3", "-m", mod}, nil
}

// skipSource leaves out of keys and the image what never belongs to the
// job: version control, paved's outputs, caches, virtual environments.
func skipSource(rel string, d fs.DirEntry) bool {
	base := filepath.Base(rel)
	if d.IsDir() {
		switch base {
		case ".git", pipelines.OutputDir, "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", "venv", ".tox", "node_modules", ".idea", ".vscode":
			return true
		}
		return rel == "site-packages" // the dependencies' place in the image
	}
	return strings.HasSuffix(base, ".pyc") || base == ".coverage"
}

// sourceKey starts a key with the job's files.
func sourceKey(step, dir string) (*runner.KeyBuilder, error) {
	k := runner.NewKey().String("step", step)
	if err := k.Dir("source", dir, skipSource); err != nil {
		return nil, fmt.Errorf("hashing source %s: %w", dir, err)
	}
	return k, nil
}

// interpreter describes the Python once per run: every step's key names it.
type interpreter struct {
	python.Interpreter
	once sync.Once
	info python.Info
	err  error
}

func (i *interpreter) describe(ctx context.Context) (python.Info, error) {
	i.once.Do(func() { i.info, i.err = i.Describe(ctx) })
	return i.info, i.err
}
