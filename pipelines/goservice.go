package pipelines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/runner"
)

// GoService is the golden path for a Go service: test and build run side
// by side, and the image is published once both succeed, so an untested
// image never leaves the machine.
func GoService(ctx context.Context, o Options) (*Run, error) {
	return goPath(ctx, "go-service", o, true, true)
}

// GoBuild builds and publishes a Go service's image without testing it.
func GoBuild(ctx context.Context, o Options) (*Run, error) {
	return goPath(ctx, "build", o, false, true)
}

// GoTest tests a Go service.
func GoTest(ctx context.Context, o Options) (*Run, error) {
	return goPath(ctx, "test", o, true, false)
}

func goPath(ctx context.Context, name string, o Options, withTest, withBuild bool) (*Run, error) {
	r, err := prepare(ctx, name, o)
	if err != nil {
		return nil, err
	}
	if _, err := moduleRoot(r.Context.Dir); err != nil {
		return nil, &ConfigError{Field: "--source", Msg: err.Error()}
	}
	cfg := r.Config
	g := &runner.Graph{}
	var needs []string
	if withTest {
		cov := *cfg.Test.Coverage
		if o.MinCoverage != nil {
			cov = *o.MinCoverage
			if cov < 0 || cov > 100 {
				return nil, &ConfigError{Field: "--coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", cov)}
			}
		}
		g.Add(&testStep{opts: test.Options{Dir: r.Context.Dir, Packages: cfg.Test.Packages, MinCoverage: cov, SkipVet: !*cfg.Test.Vet}})
		needs = append(needs, "test")
	}
	if withBuild {
		bopts, err := buildOptions(r, o)
		if err != nil {
			return nil, err
		}
		target, tags, err := publishTarget(r, o)
		if err != nil {
			return nil, err
		}
		g.Add(&buildStep{opts: bopts})
		g.Add(&publishStep{target: target, tags: tags, from: "build"}, append(needs, "build")...)
	}
	r.Graph = g
	return r, nil
}

// prepare reads the source's context and paved.yaml.
func prepare(ctx context.Context, name string, o Options) (*Run, error) {
	src := o.Source
	if src == "" {
		src = "."
	}
	info, err := os.Stat(src)
	if err != nil {
		return nil, &ConfigError{Field: "--source", Msg: err.Error()}
	}
	if !info.IsDir() {
		return nil, &ConfigError{Field: "--source", Msg: src + " is not a directory"}
	}
	cfg, err := LoadConfig(src)
	if err != nil {
		return nil, err
	}
	rc, err := runner.DetectContext(ctx, src)
	if err != nil {
		return nil, &ConfigError{Field: "environment", Msg: err.Error()}
	}
	return &Run{Pipeline: name, Config: cfg, Context: rc, OutputDir: filepath.Join(rc.Dir, OutputDir)}, nil
}

func buildOptions(r *Run, o Options) (build.Options, error) {
	cfg := r.Config
	platforms := cfg.Platforms
	if len(o.Platforms) > 0 {
		platforms = o.Platforms
	}
	ps, err := ParsePlatforms(platforms)
	if err != nil {
		field := "--platform"
		if len(o.Platforms) == 0 {
			field = ConfigFile + ": platforms"
		}
		return build.Options{}, &ConfigError{Field: field, Msg: err.Error()}
	}
	baseRef := cfg.Base
	if o.Base != "" {
		baseRef = o.Base
	}
	base, err := build.ParseBase(baseRef)
	if err != nil {
		return build.Options{}, &ConfigError{Field: "--base", Msg: err.Error()}
	}
	ann := map[string]string{}
	if r.Context.Repo != "" {
		ann["org.opencontainers.image.source"] = r.Context.Repo
	}
	version := "dev"
	if c := r.Context.Commit; c != "" {
		ann["org.opencontainers.image.revision"] = c
		version = c[:min(12, len(c))]
	}
	ann["org.opencontainers.image.version"] = version
	if cfg.Service != "" {
		ann["org.opencontainers.image.title"] = cfg.Service
	}
	return build.Options{
		Dir: r.Context.Dir, Main: cfg.Main, Platforms: ps, Base: base,
		Created: r.Context.Changed, Version: version, Annotations: ann,
	}, nil
}

func publishTarget(r *Run, o Options) (build.Target, []string, error) {
	ref, field := o.Image, "--image"
	if ref == "" && r.Config.Image != "" {
		ref, field = r.Config.Image, ConfigFile+": image"
	}
	if ref == "" {
		ref = "oci:" + filepath.Join(r.OutputDir, "image")
	}
	t, err := build.ParseTarget(ref)
	if err != nil {
		return nil, nil, &ConfigError{Field: field, Msg: err.Error()}
	}
	tags := r.Config.Tags
	if len(o.Tags) > 0 {
		tags = o.Tags
	}
	if len(tags) == 0 {
		tags = []string{"latest"}
	}
	return t, tags, nil
}

// Fill copies what the steps found into the report.
func (r *Run) Fill(rep *runner.Report, o *runner.Outcome) error {
	var errs []error
	if res := o.Results["test"]; res != nil {
		var v TestValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		} else {
			rep.Test = &runner.TestReport{Coverage: v.Coverage, Threshold: v.Threshold, Passed: v.Passed, Failed: v.Failed,
				Skipped: v.Skipped, Failures: v.Failures, Vet: v.Vet}
			rep.Test.JUnit = r.exported(res, "test", "junit.xml")
			rep.Test.CoverProfile = r.exported(res, "test", "coverage.out")
		}
	}
	if res := o.Results["publish"]; res != nil {
		var pub PublishValue
		var img ImageValue
		if err := res.Decode(&pub); err != nil {
			errs = append(errs, err)
		} else if err := o.Results["build"].Decode(&img); err != nil {
			errs = append(errs, err)
		} else {
			rep.Image = &runner.ImageReport{Ref: pub.Ref, Digest: pub.Digest, Platforms: img.Platforms, Tags: pub.Tags}
		}
	}
	return errors.Join(errs...)
}

// exported copies a step's file to the run's output directory and returns
// its path there, or "" when the step did not write it.
func (r *Run) exported(res *runner.Result, step, file string) string {
	for _, e := range res.Export {
		if e != file {
			continue
		}
		dst := filepath.Join(r.OutputDir, step, file)
		if err := copyFile(filepath.Join(res.Dir, file), dst); err != nil {
			return ""
		}
		return dst
	}
	return ""
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
