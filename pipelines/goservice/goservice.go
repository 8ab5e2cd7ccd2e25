// Package goservice is the golden path for Go services: test and build
// side by side, then publish. Importing it registers the path as
// "go-service" (and its verbs as "go-build" and "go-test").
package goservice

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pavedhq/paved/internal/atomicfile"
	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/scan/expiry"
	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

func init() {
	pipelines.Register("go-service", Path, true)
	pipelines.Register("go-build", Build, false)
	pipelines.Register("go-test", Test, false)
}

// Path is the golden path. Test, build, SBOM and scan run as soon as they
// can; the image is published only when all of them succeed, so an
// untested or gate-failing image never leaves the machine; then it is
// signed and attested.
func Path(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return plan(ctx, "go-service", o, true, true, true)
}

// Build builds and publishes a Go service's image without testing it.
func Build(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return plan(ctx, "build", o, false, true, false)
}

// Test tests a Go service.
func Test(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	return plan(ctx, "test", o, true, false, false)
}

func plan(ctx context.Context, name string, o pipelines.Options, withTest, withBuild, withSupplyChain bool) (*pipelines.Run, error) {
	r, err := pipelines.Prepare(ctx, name, o)
	if err != nil {
		return nil, err
	}
	if _, err := moduleRoot(r.Context.Dir); err != nil {
		return nil, &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
	}
	cfg := r.Config
	g := &runner.Graph{}
	var needs []string
	lintAfter := "" // the step whose end the lint step waits for
	if withTest {
		cov := *cfg.Test.Coverage
		if o.MinCoverage != nil {
			cov = *o.MinCoverage
			if cov < 0 || cov > 100 {
				return nil, &pipelines.ConfigError{Field: "--coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", cov)}
			}
		}
		g.Add(&testStep{opts: test.Options{Dir: r.Context.Dir, Packages: cfg.Test.Packages, MinCoverage: cov, SkipVet: !*cfg.Test.Vet}, env: cfg.Test.Env})
		lc, err := lintConfig(r, o)
		if err != nil {
			return nil, err
		}
		needs = append(needs, "test")
		if lc.Staticcheck.Disabled && lc.Gosec.Disabled {
			// Opted out of both: no step, so no worker is needed, and the
			// report says what was not checked.
			r.Warnings = append(r.Warnings, "lint (staticcheck) and SAST (gosec) disabled: not run")
		} else {
			g.Add(&lintStep{cfg: lc, exec: o.Executor, cache: o.LintCache})
			needs = append(needs, "lint")
			// The lint step loads its packages from export data that
			// go test and the build compile too: side by side, with an
			// empty Go cache, they would compile every dependency twice.
			// After the tests (or the build, below), it finds them
			// compiled.
			lintAfter = "test"
		}
	}
	if withBuild {
		bopts, err := buildOptions(r, o)
		if err != nil {
			return nil, err
		}
		// The tests compile the host's packages as the build does; let
		// them, and have the build reuse them.
		bopts.HostLast = withTest
		g.Add(&buildStep{opts: bopts, ldflags: cfg.Ldflags})
		if lintAfter != "" && slices.ContainsFunc(bopts.Platforms, build.IsHost) {
			// The build ends with the host's binary: every package the
			// lint step reads as export data is compiled by then, by the
			// build or by go test before it (the module's own packages
			// by the build: go test's carry coverage counters). Lint then
			// runs beside go vet, which follows the tests.
			lintAfter = "build"
		}
		if !withSupplyChain {
			target, tags, err := publishTarget(r, o)
			if err != nil {
				return nil, err
			}
			g.Add(&publishStep{target: target, tags: tags, from: "build"}, append(needs, "build")...)
		} else {
			d := Delivery{Needs: needs, GoSource: r.Context.Dir, Main: mainPackages(bopts)}
			for _, p := range bopts.Platforms {
				d.Platforms = append(d.Platforms, p.String())
			}
			if o.Signing.Enabled() {
				tc, err := goToolchain(ctx)
				if err != nil {
					return nil, &pipelines.ConfigError{Field: "environment", Msg: err.Error()}
				}
				d.GoVersion, d.GoEnv = tc.Version, provenanceEnv(tc.Env)
			}
			if err := AddDelivery(r, o, g, d); err != nil {
				return nil, err
			}
		}
	}
	if lintAfter != "" {
		g.After("lint", lintAfter)
	}
	r.Graph = g
	r.Fill = Fill(r)
	return r, nil
}

func scanConfig(r *pipelines.Run, o pipelines.Options) (ScanConfig, error) {
	cfg := r.Config.Scan
	db := cfg.VulnDB
	if o.VulnDB != "" {
		db = o.VulnDB
	}
	if db != "" {
		if info, err := os.Stat(db); err != nil || !info.IsDir() {
			field := "--vuln-db"
			if o.VulnDB == "" {
				field = pipelines.ConfigFile + ": scan.vulnDB"
			}
			return ScanConfig{}, &pipelines.ConfigError{Field: field, Msg: fmt.Sprintf("%s is not a directory", db)}
		}
		if abs, err := filepath.Abs(db); err == nil {
			db = abs
		}
	}
	required := *cfg.Required
	if o.ScanRequired != nil {
		required = *o.ScanRequired
	}
	sc := ScanConfig{Dir: r.Context.Dir, DBDir: db, Severities: cfg.Severities, AnyFix: cfg.AnyFix, AllowIncomplete: !required}
	for i, ig := range cfg.Ignore {
		// The day itself: scan honours it through its end, UTC, as a
		// promotion policy's (package expiry).
		exp, err := expiry.Parse(ig.Expires)
		if err != nil {
			return ScanConfig{}, &pipelines.ConfigError{Field: fmt.Sprintf("%s: scan.ignore[%d].expires", pipelines.ConfigFile, i), Msg: err.Error()}
		}
		sc.Ignore = append(sc.Ignore, IgnoreConfig{ID: ig.ID, Reason: ig.Reason, Expires: exp})
	}
	return sc, nil
}

// documentName names the image in SBOMs: its repository, or for a local
// layout the service, never a path on this machine.
func documentName(r *pipelines.Run, t build.Target) string {
	if rt, ok := t.(build.RegistryTarget); ok {
		return rt.Repo.Name()
	}
	return r.ServiceName()
}

// provenanceEnv is the Go environment the provenance records: the
// settings that change what go builds, and GOPROXY without credentials to
// say where modules came from. GOPRIVATE, GONOPROXY and GONOSUMDB are left
// out: they only choose where modules are fetched and checked (go.sum fixes
// their content), and they name private module paths that an attestation,
// readable by anyone who can pull the image, has no need to publish.
func provenanceEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOPRIVATE", "GONOPROXY", "GONOSUMDB":
			continue
		}
		out = append(out, k+"="+runner.RedactURL(v))
	}
	return out
}

// builderID names the trust boundary that ran the build: the workflow in
// GitHub Actions, else paved on the host it detected.
func builderID(rc runner.RunContext) string {
	if ref := os.Getenv("GITHUB_WORKFLOW_REF"); rc.Environment == "github-actions" && ref != "" {
		return "https://github.com/" + ref
	}
	return "https://github.com/pavedhq/paved/builders/" + rc.Environment + "@v1"
}

// mainPackages is what provenance records as built: the main package (as
// found when paved.yaml names none), or those of binaries:, comma-separated.
func mainPackages(o build.Options) string {
	if len(o.Binaries) == 0 {
		return o.Main
	}
	mains := make([]string, len(o.Binaries))
	for i, b := range o.Binaries {
		mains[i] = b.Main
	}
	return strings.Join(mains, ",")
}

// configuredMains is mainPackages for a run that does not build: the
// image was built elsewhere, so a main that cannot be found leaves
// paved.yaml's (".") in the provenance rather than failing it.
func configuredMains(r *pipelines.Run) string {
	o := build.Options{Main: r.Config.Main}
	for _, b := range r.Config.Binaries {
		o.Binaries = append(o.Binaries, build.Binary{Main: b.Main, Name: b.Name})
	}
	if len(o.Binaries) == 0 && o.Main == "." {
		if m, err := build.FindMain(r.Context.Dir); err == nil {
			o.Main = m
		}
	}
	return mainPackages(o)
}

func buildOptions(r *pipelines.Run, o pipelines.Options) (build.Options, error) {
	cfg := r.Config
	platforms := cfg.Platforms
	if len(o.Platforms) > 0 {
		platforms = o.Platforms
	}
	ps, err := pipelines.ParsePlatforms(platforms)
	if err != nil {
		field := "--platform"
		if len(o.Platforms) == 0 {
			field = pipelines.ConfigFile + ": platforms"
		}
		return build.Options{}, &pipelines.ConfigError{Field: field, Msg: err.Error()}
	}
	baseRef := cfg.Base
	if o.Base != "" {
		baseRef = o.Base
	}
	base, err := build.ParseBase(baseRef)
	if err != nil {
		return build.Options{}, &pipelines.ConfigError{Field: "--base", Msg: err.Error()}
	}
	version := serviceVersion(r.Context)
	ann := ImageAnnotations(r.Context, cfg.Service, version)
	var bins []build.Binary
	for _, b := range cfg.Binaries {
		bins = append(bins, build.Binary{Main: b.Main, Name: b.Name})
	}
	main := cfg.Main
	if len(bins) == 0 && main == "." {
		m, err := findMain(r.Context.Dir)
		if err != nil {
			return build.Options{}, err
		}
		main = m
	}
	opts := build.Options{
		Dir: r.Context.Dir, Main: main, Binaries: bins, Entrypoint: cfg.Entrypoint, Toolchain: cfg.Toolchain,
		Platforms: ps, Base: base, Created: r.Context.Changed, Version: version, Annotations: ann,
		Config: cfg.Container.Runtime(),
	}
	for _, f := range cfg.Files {
		opts.Files = append(opts.Files, f.File())
	}
	if len(cfg.Ldflags) > 0 {
		data := build.NewLdflagsData(version, r.Context.Commit, r.Context.Changed, os.Environ())
		flags, err := build.RenderLdflags(cfg.Ldflags, data)
		if err != nil {
			field, msg, _ := strings.Cut(err.Error(), ": ")
			return build.Options{}, &pipelines.ConfigError{Field: pipelines.ConfigFile + ": " + field, Msg: msg}
		}
		opts.Ldflags = flags
	}
	return opts, nil
}

// serviceVersion is what {{.Version}} and the version annotation say: a
// release tag without its leading v (GoReleaser's .Version), else the
// commit's first 12 hex digits, else dev.
func serviceVersion(rc runner.RunContext) string {
	if tag, ok := strings.CutPrefix(rc.Ref, "refs/tags/"); ok && tag != "" {
		return strings.TrimPrefix(tag, "v")
	}
	return CommitVersion(rc)
}

// findMain is the main package when paved.yaml names none: the service's
// root, else the only one under cmd/. With several, the error lists them
// and the lines that choose.
func findMain(dir string) (string, error) {
	m, err := build.FindMain(dir)
	var many *build.ManyMainsError
	var none *build.NoMainError
	switch {
	case errors.As(err, &many):
		var b strings.Builder
		fmt.Fprintf(&b, "the service's root is not a main package, and cmd/ holds %d: %s. Name the one to build in %s:\n  main: %s\nor put them all in the image (the first is the entrypoint):\n  binaries:\n",
			len(many.Candidates), strings.Join(many.Candidates, ", "), pipelines.ConfigFile, many.Candidates[0])
		for _, c := range many.Candidates {
			fmt.Fprintf(&b, "    - {main: %s}\n", c)
		}
		return "", &pipelines.ConfigError{Field: pipelines.ConfigFile + ": main", Msg: strings.TrimSuffix(b.String(), "\n")}
	case errors.As(err, &none):
		return "", &pipelines.ConfigError{Field: pipelines.ConfigFile + ": main", Msg: "no main package at the service's root nor in cmd/*/: name the service's main package, such as main: ./server"}
	case err != nil:
		return "", &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
	}
	return m, nil
}

func publishTarget(r *pipelines.Run, o pipelines.Options) (build.Target, []string, error) {
	ref, field := o.Image, "--image"
	if ref == "" && r.Config.Image != "" {
		ref, field = r.Config.Image, pipelines.ConfigFile+": image"
	}
	if ref == "" {
		ref = "oci:" + filepath.Join(r.OutputDir, "image")
	}
	t, err := build.ParseTarget(ref)
	if err != nil {
		return nil, nil, &pipelines.ConfigError{Field: field, Msg: err.Error()}
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

// fill copies what the steps found into the report.
func fill(r *pipelines.Run, rep *runner.Report, o *runner.Outcome) error {
	var errs []error
	if res := o.Results["test"]; res != nil {
		var v TestValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		} else {
			rep.Test = &runner.TestReport{Coverage: v.Coverage, Threshold: v.Threshold, Passed: v.Passed, Failed: v.Failed,
				Skipped: v.Skipped, Failures: v.Failures, Vet: v.Vet}
			rep.Test.JUnit = export(r, res, "test", "junit.xml", &errs)
			// The coverage file is go's coverage.out, or the summary another
			// language's runner wrote.
			for _, f := range res.Export {
				if f != "junit.xml" && rep.Test.CoverProfile == "" {
					rep.Test.CoverProfile = export(r, res, "test", f, &errs)
				}
			}
		}
	}
	if res := o.Results["lint"]; res != nil {
		var v LintValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		} else {
			rep.Lint = &runner.LintReport{Passed: v.Passed, Tools: v.Tools, Findings: v.Findings, Warnings: v.Warnings,
				JSON: export(r, res, "lint", LintJSON, &errs), SARIF: export(r, res, "lint", LintSARIF, &errs)}
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
	if res := o.Results["sbom"]; res != nil {
		var v SBOMValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		}
		for _, d := range v.Documents {
			rep.SBOM = append(rep.SBOM, runner.SBOMReport{Format: d.Format, Path: export(r, res, "sbom", d.File, &errs), Digest: d.Digest})
		}
	}
	if res := o.Results["scan"]; res != nil {
		var v ScanValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		} else {
			rep.Scan = &runner.ScanReport{Status: v.Status, Missing: v.Missing, Counts: v.Counts, Gate: v.Rule, Passed: v.Passed, Violations: v.Violations, Warnings: v.Warnings,
				JSON: export(r, res, "scan", ScanJSON, &errs), SARIF: export(r, res, "scan", ScanSARIF, &errs)}
		}
	}
	if res := o.Results["sign"]; res != nil {
		var v SignValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		}
		rep.Signatures = append(rep.Signatures, v.Signatures...)
	}
	if res := o.Results["attest"]; res != nil {
		var v AttestValue
		if err := res.Decode(&v); err != nil {
			errs = append(errs, err)
		}
		rep.Attestations = append(rep.Attestations, v.Attestations...)
	}
	return errors.Join(errs...)
}

// export copies a step's file to the run's output directory and returns
// its path there, or "" when the step did not write it. A copy that fails
// is added to errs: the report must not name a file that is not there,
// nor leave an older run's in its place unnoticed.
func export(r *pipelines.Run, res *runner.Result, step, file string, errs *[]error) string {
	for _, e := range res.Export {
		if e != file {
			continue
		}
		dst := filepath.Join(r.OutputDir, step, file)
		if err := copyFile(filepath.Join(res.Dir, file), dst); err != nil {
			*errs = append(*errs, fmt.Errorf("exporting the %s step's %s: %w", step, file, err))
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
	return atomicfile.WriteFile(dst, b, 0o644)
}
