package pythonbatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/cronjob"
	"github.com/pavedhq/paved/modules/python"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// DepsValue is the deps step's result: what the lock installed, kept in
// the step's directory under TargetDir.
type DepsValue struct {
	Packages []python.Package `json:"packages"`
}

// TargetDir is where the deps step installs, in its directory.
const TargetDir = "site-packages"

// depsStep installs the lock with pip into a directory of its own.
type depsStep struct {
	dir, lock string // lock is "" for a job without dependencies
	py        *interpreter
}

var (
	_ runner.Keyed = (*depsStep)(nil)
	_ runner.Keyed = (*testStep)(nil)
	_ runner.Keyed = (*buildStep)(nil)
	_ runner.Keyed = (*manifestStep)(nil)
)

func (s *depsStep) Name() string { return "deps" }

// Key holds the lock (and, for a poetry.lock, pyproject.toml), the
// interpreter, pip's configuration (variables hashed, so an index token
// never reaches the cache) and the local wheel directories the lock
// points at.
func (s *depsStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k := runner.NewKey().String("step", "deps/v1")
	if s.lock == "" {
		return k.String("lock", "none").Sum(), nil
	}
	b, err := os.ReadFile(s.lock)
	if err != nil {
		return "", err
	}
	k.String("lock", string(b))
	if filepath.Base(s.lock) == python.PoetryLockFile {
		// Poetry's lock holds the packages; which of them the job needs
		// starts from the project's dependencies in pyproject.toml.
		pyproject, err := os.ReadFile(filepath.Join(filepath.Dir(s.lock), "pyproject.toml"))
		if err != nil {
			return "", err
		}
		k.String("pyproject", string(pyproject))
	}
	info, err := s.py.describe(ctx)
	if err != nil {
		return "", err
	}
	k.JSON("python", info)
	var pipVars []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "PIP_") {
			pipVars = append(pipVars, name)
		}
	}
	sort.Strings(pipVars)
	for _, name := range pipVars {
		k.String("env:"+name, hashOf(os.Getenv(name)))
	}
	for _, p := range pipConfigFiles() {
		if c, err := os.ReadFile(p); err == nil {
			k.String("pipconf:"+p, hashOf(string(c)))
		}
	}
	for _, d := range findLinks(string(b), filepath.Dir(s.lock)) {
		if err := k.Dir("wheels:"+d, d, nil); err != nil {
			return "", err
		}
	}
	return k.Sum(), nil
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// pipConfigFiles are where pip reads its configuration on Linux.
func pipConfigFiles() []string {
	files := []string{"/etc/pip.conf", "/etc/xdg/pip/pip.conf"}
	if h, err := os.UserHomeDir(); err == nil {
		files = append(files, filepath.Join(h, ".pip", "pip.conf"), filepath.Join(h, ".config", "pip", "pip.conf"))
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		files = append(files, filepath.Join(x, "pip", "pip.conf"))
	}
	if p := os.Getenv("PIP_CONFIG_FILE"); p != "" {
		files = append(files, p)
	}
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		files = append(files, filepath.Join(v, "pip.conf"))
	}
	return files
}

// findLinks are the local directories a lock's --find-links lines name,
// resolved as pip does: relative to the lock when that exists.
func findLinks(lock, dir string) []string {
	var out []string
	for _, line := range strings.Split(lock, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		opt, val, hasVal := strings.Cut(f[0], "=")
		if opt != "-f" && opt != "--find-links" {
			continue
		}
		if !hasVal && len(f) > 1 {
			val = f[1]
		}
		if strings.Contains(val, "://") || val == "" {
			continue
		}
		if !filepath.IsAbs(val) {
			val = filepath.Join(dir, val)
		}
		if info, err := os.Stat(val); err == nil && info.IsDir() {
			out = append(out, val)
		}
	}
	return out
}

func (s *depsStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	target := filepath.Join(in.OutDir, TargetDir)
	if err := os.MkdirAll(target, 0o755); err != nil {
		return nil, err
	}
	var v DepsValue
	if s.lock != "" {
		pkgs, err := python.Install(ctx, python.InstallOptions{Python: s.py.Interpreter, Requirements: s.lock, Target: target, Env: os.Environ()})
		if err != nil {
			return nil, errors.New(runner.RedactURL(err.Error()))
		}
		v.Packages = pkgs
	}
	var names []string
	for _, p := range v.Packages {
		names = append(names, p.Name+"=="+p.Version)
	}
	summary := "no dependencies"
	if len(names) > 0 {
		summary = strings.Join(names, ", ")
	}
	return runner.NewResult(v, summary)
}

// testStep runs pytest with coverage and the gate.
type testStep struct {
	dir      string
	py       *interpreter
	packages []string
	min      float64
	env      []string // paved.yaml test.env: the variables the tests read
}

func (s *testStep) Name() string { return "test" }

func (s *testStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	k, err := sourceKey("test/v1", s.dir)
	if err != nil {
		return "", err
	}
	info, err := s.py.describe(ctx)
	if err != nil {
		return "", err
	}
	var deps DepsValue
	if err := in.Deps["deps"].Decode(&deps); err != nil {
		return "", err
	}
	k.JSON("python", info).JSON("deps", deps).JSON("options", struct {
		Packages []string
		Min      float64
	}{s.packages, s.min})
	for _, name := range s.env {
		v, ok := os.LookupEnv(name)
		h := "unset"
		if ok {
			h = hashOf(v)
		}
		k.String("test.env:"+name, h)
	}
	return k.Sum(), nil
}

func (s *testStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	res, err := python.Test(ctx, python.TestOptions{Python: s.py.Interpreter, Dir: s.dir, Deps: filepath.Join(in.Deps["deps"].Dir, TargetDir),
		Packages: s.packages, MinCoverage: s.min, OutDir: in.OutDir, Env: os.Environ()})
	if res == nil {
		return nil, err
	}
	v := goservice.TestValue{Coverage: res.Coverage, Threshold: s.min, Passed: res.Passed, Failed: res.Failed, Skipped: res.Skipped}
	for _, f := range res.Failures {
		v.Failures = append(v.Failures, runner.TestFailure{Package: f.Package, Test: f.Test, Output: f.Output, File: f.File, Line: f.Line})
	}
	r, encErr := runner.NewResult(v, fmt.Sprintf("%d passed, %d failed, %d skipped, coverage %.1f%%", res.Passed, res.Failed, res.Skipped, res.Coverage))
	if encErr != nil {
		return nil, errors.Join(err, encErr)
	}
	r.Export = append(r.Export, python.JUnitFile)
	if res.Cobertura != "" {
		r.Export = append(r.Export, python.CoberturaFile)
	}
	return r, err
}

// buildStep lays the dependencies and the job onto the base.
type buildStep struct {
	dir         string
	base        build.Base
	runtime     *interpreter // when set, its program and standard library go into the image
	platforms   []v1.Platform
	entrypoint  []string
	created     time.Time
	annotations map[string]string
}

func (s *buildStep) Name() string { return "build" }

func (s *buildStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	k, err := sourceKey("build/v1", s.dir)
	if err != nil {
		return "", err
	}
	base, err := build.CacheKey(ctx, s.base)
	if err != nil {
		return "", fmt.Errorf("resolving base image %s: %w", s.base.Name(), err)
	}
	if s.runtime != nil {
		info, err := s.runtime.describe(ctx)
		if err != nil {
			return "", err
		}
		k.JSON("runtime", info)
	}
	dep := in.Deps["deps"]
	if err := k.String("base", base).Dir("deps", filepath.Join(dep.Dir, TargetDir), nil); err != nil {
		return "", err
	}
	return k.JSON("options", struct {
		Platforms   []v1.Platform
		Entrypoint  []string
		Created     string
		Annotations map[string]string
	}{s.platforms, s.entrypoint, s.created.UTC().String(), s.annotations}).Sum(), nil
}

func (s *buildStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	deps := filepath.Join(in.Deps["deps"].Dir, TargetDir)
	var layers []build.Layer
	if s.runtime != nil {
		info, err := s.runtime.describe(ctx)
		if err != nil {
			return nil, err
		}
		l, err := build.HostFiles(ctx, "python runtime", info.Executable, info.Stdlib)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	layers = append(layers,
		build.Layer{Name: "python dependencies", Trees: []build.Tree{{Src: deps, Dest: DepsDir}}},
		build.Layer{Name: "job", Trees: []build.Tree{{Src: s.dir, Dest: AppDir, Skip: skipSource}}})
	idx, err := build.Assemble(ctx, build.Assembly{
		Base:       s.base,
		Platforms:  s.platforms,
		Layers:     layers,
		Entrypoint: s.entrypoint,
		WorkingDir: AppDir,
		// No bytecode at run time: the CronJob's root file system is
		// read-only. Unbuffered output reaches the pod's log as it comes.
		Env:         []string{"PYTHONPATH=" + AppDir + ":" + DepsDir, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"},
		Created:     s.created,
		Annotations: s.annotations,
	})
	if err != nil {
		return nil, err
	}
	return goservice.ImageResult(ctx, in.OutDir, idx, s.base, s.platforms)
}

// CronJobFile is the manifest the manifests step writes.
const CronJobFile = "cronjob.yaml"

// ManifestValue is the manifests step's result.
type ManifestValue struct {
	Image string `json:"image"` // as the CronJob names it
}

// manifestStep renders the CronJob for the published digest.
type manifestStep struct {
	job  pipelines.JobConfig
	name string
}

func (s *manifestStep) Name() string { return "manifests" }

func (s *manifestStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	var pub goservice.PublishValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return "", err
	}
	return runner.NewKey().String("step", "manifests/v1").String("ref", pub.Ref).String("name", s.name).JSON("job", s.job).Sum(), nil
}

func (s *manifestStep) Run(_ context.Context, in runner.Inputs) (*runner.Result, error) {
	var pub goservice.PublishValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return nil, err
	}
	image, note := pub.Ref, ""
	if strings.HasPrefix(image, "oci:") {
		// A layout on this machine is no reference a cluster can pull.
		image, note = s.name+"@"+pub.Digest, " (published to an OCI layout: the image is named by the service; publish with --image for a pullable reference)"
	}
	b, err := cronjob.Render(s.job.CronJob(s.name, image))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(in.OutDir, CronJobFile), b, 0o644); err != nil {
		return nil, err
	}
	r, err := runner.NewResult(ManifestValue{Image: image}, fmt.Sprintf("CronJob %s, schedule %q%s", s.name, s.job.Schedule, note))
	if err != nil {
		return nil, err
	}
	r.Export = []string{CronJobFile}
	return r, nil
}
