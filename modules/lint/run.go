package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/securego/gosec/v2"
	"golang.org/x/tools/go/packages"

	"github.com/pavedhq/paved/internal/goflags"
	sariflog "github.com/pavedhq/paved/internal/sarif"
)

// Options say which tools run and what fails their gates.
type Options struct {
	Staticcheck Tool
	Gosec       Tool
	// Patterns are the packages to check, as go list takes them; default
	// ./... .
	Patterns []string
	// Now is the time exceptions are checked against; zero means now.
	Now time.Time
	// CacheDir keeps staticcheck's facts and findings per package between
	// runs, so a run after a small change re-analyses only what the
	// change reaches. It holds what the analysis derives from the source
	// (and nothing of the environment), like Go's build cache. Empty uses
	// a temporary directory, removed when Run returns.
	CacheDir string
}

// Tool statuses, as in ToolResult.Status.
const (
	Checked  = "checked"
	Disabled = "disabled"
	NotRun   = "not run"
)

// Report is what the tools found, and each one's verdict.
type Report struct {
	Tools    []ToolResult `json:"tools"`
	Findings []Finding    `json:"findings"`
	Warnings []string     `json:"warnings,omitempty"` // lapsed exceptions, exceptions that match nothing
}

// ToolResult is one tool's verdict.
type ToolResult struct {
	Tool    string `json:"tool"`
	Kind    string `json:"kind"` // lint or sast
	Version string `json:"version,omitempty"`
	Status  string `json:"status"`
	// Error says why a tool that was asked to run could not.
	Error  string         `json:"error,omitempty"`
	Rule   string         `json:"rule"`
	Passed bool           `json:"passed"`
	Counts map[string]int `json:"counts"` // findings not accepted by an exception, by severity
}

// Passed reports whether every tool's gate passed.
func (r *Report) Passed() bool {
	for _, t := range r.Tools {
		if !t.Passed {
			return false
		}
	}
	return true
}

// Run checks the Go module in dir with the tools opts enables and applies
// their gates. It returns the report with a *GateError when a gate fails,
// a *FieldError for a bad setting, and a nil report only when the context
// ends first.
func Run(ctx context.Context, dir string, opts Options) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	runs, err := analyze(ctx, abs, opts)
	if err != nil {
		return nil, err
	}
	return judge(runs, opts)
}

func (opts Options) validate() error {
	for _, t := range []Tool{opts.Staticcheck, opts.Gosec} {
		for _, e := range t.Ignore {
			if err := e.Validate(); err != nil {
				return err
			}
		}
		if t.Severity != "" && rank(strings.ToUpper(t.Severity)) == len(Severities) {
			return &FieldError{Field: "severity", Msg: fmt.Sprintf("%q: want HIGH, MEDIUM or LOW", t.Severity)}
		}
	}
	return nil
}

type tool struct {
	name, kind, module string
	run                func(ctx context.Context, load *packages.Config, t Tool, opts Options) ([]Finding, error)
}

var tools = []tool{
	{Staticcheck, "lint", "honnef.co/go/tools", func(ctx context.Context, load *packages.Config, t Tool, opts Options) ([]Finding, error) {
		return runStaticcheck(ctx, load, patterns(opts), t, opts.CacheDir)
	}},
	{Gosec, "sast", "github.com/securego/gosec/v2", func(ctx context.Context, load *packages.Config, t Tool, opts Options) ([]Finding, error) {
		return runGosec(ctx, load, patterns(opts), t)
	}},
}

func patterns(opts Options) []string {
	if len(opts.Patterns) == 0 {
		return []string{"./..."}
	}
	return opts.Patterns
}

func (opts Options) of(name string) Tool {
	if name == Staticcheck {
		return opts.Staticcheck
	}
	return opts.Gosec
}

// toolRun is what one tool found before its gate, or why it could not run.
type toolRun struct {
	findings []Finding
	err      error
}

// analyze runs each enabled tool, one after the other: each loads the
// packages its own way, and what one holds is released before the next
// starts.
func analyze(ctx context.Context, dir string, opts Options) (map[string]toolRun, error) {
	flags, err := goflags.Lookup(ctx, dir, loadEnv())
	if err != nil {
		return nil, err
	}
	runs := map[string]toolRun{}
	for _, t := range tools {
		cfg := opts.of(t.name)
		if cfg.Disabled {
			continue
		}
		fs, err := t.run(ctx, loadConfig(ctx, dir, flags), cfg, opts)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		runs[t.name] = toolRun{findings: fs, err: err}
	}
	return runs, nil
}

// judge applies the exceptions and gates to what the tools found.
func judge(runs map[string]toolRun, opts Options) (*Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rep := &Report{Findings: []Finding{}}
	var failed []string
	for _, t := range tools {
		cfg := opts.of(t.name)
		res := ToolResult{Tool: t.name, Kind: t.kind, Version: sariflog.ModuleVersion(t.module), Rule: ruleOf(cfg), Counts: map[string]int{}}
		r := runs[t.name]
		switch {
		case cfg.Disabled:
			res.Status, res.Passed, res.Rule = Disabled, true, "disabled"
		case r.err != nil:
			res.Status, res.Error = NotRun, r.err.Error()
			failed = append(failed, fmt.Sprintf("%s could not run: %s", t.name, res.Error))
		default:
			fs := slices.Clone(r.findings)
			res.Status = Checked
			rep.Warnings = append(rep.Warnings, prefix(t.name+": ", applyExceptions(fs, cfg.Ignore, now))...)
			blocking := 0
			for i := range fs {
				fs[i].Blocking = blocks(cfg, fs[i])
				if fs[i].Blocking {
					blocking++
				}
				if fs[i].Ignored == "" {
					res.Counts[fs[i].Severity]++
				}
			}
			res.Passed = blocking == 0
			if blocking > 0 {
				failed = append(failed, fmt.Sprintf("%s gate %q failed: %d findings", t.name, res.Rule, blocking))
			}
			rep.Findings = append(rep.Findings, fs...)
		}
		rep.Tools = append(rep.Tools, res)
	}
	rep.Findings = normalize(rep.Findings)
	if len(failed) == 0 {
		return rep, nil
	}
	ge := &GateError{Failed: failed}
	for _, f := range rep.Findings {
		if !f.Blocking {
			continue
		}
		if len(ge.Shown) == 10 {
			ge.More++
			continue
		}
		ge.Shown = append(ge.Shown, f)
	}
	return rep, ge
}

func prefix(p string, ss []string) []string {
	for i := range ss {
		ss[i] = p + ss[i]
	}
	return ss
}

// loadConfig is how both tools load the packages: as the test step tests
// them and the build compiles them, cgo off and with the build flags of
// goflags. What is checked is what ships, and the export data they read is
// what go test compiled into Go's build cache: with another environment,
// every dependency would be compiled once more.
func loadConfig(ctx context.Context, dir string, flags []string) *packages.Config {
	return &packages.Config{Context: ctx, Dir: dir, Env: loadEnv(), BuildFlags: flags}
}

func loadEnv() []string { return append(os.Environ(), "CGO_ENABLED=0") }

// gosecLoadMode is how gosec's command loads: the packages checked from
// source, their dependencies from export data (gosec's SSA analyzers
// build SSA for the checked package only, and see its imports through
// their types).
const gosecLoadMode = gosec.LoadMode | packages.NeedModule

// loadForGosec loads the module's packages for gosec, and fails naming
// the first errors when any of them does not load or type-check (a
// dependency that does not compile fails its importer's type-check): an
// analysis of a package with type errors would silently check less.
func loadForGosec(cfg *packages.Config, patterns []string) ([]*packages.Package, error) {
	dir := cfg.Dir
	cfg.Mode = gosecLoadMode
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if len(errs) < 5 {
				errs = append(errs, relativeError(dir, e.Error()))
			}
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("the packages do not load: %s", strings.Join(errs, "; "))
	}
	if len(pkgs) == 0 {
		return nil, noPackages(patterns)
	}
	return pkgs, nil
}

func noPackages(patterns []string) error {
	return fmt.Errorf("no packages match %s", strings.Join(patterns, " "))
}

// relativeError names files relative to the module: the error goes into
// reports read elsewhere.
func relativeError(dir, msg string) string {
	return strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
}

// relPath is a file relative to dir, slash-separated; "" for one outside it
// (a dependency's, which no finding of the module's should name).
func relPath(dir, file string) string {
	rel, err := filepath.Rel(dir, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return ""
	}
	return filepath.ToSlash(rel)
}
