package lint

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"
	lintpkg "honnef.co/go/tools/analysis/lint"
	"honnef.co/go/tools/config"
	"honnef.co/go/tools/go/buildid"
	"honnef.co/go/tools/lintcmd/cache"
	"honnef.co/go/tools/lintcmd/runner"
	"honnef.co/go/tools/simple"
	"honnef.co/go/tools/staticcheck"
	"honnef.co/go/tools/stylecheck"
	"honnef.co/go/tools/unused"
)

// staticcheckAnalyzers are the checks cmd/staticcheck runs, by rule ID.
func staticcheckAnalyzers() map[string]*lintpkg.Analyzer {
	all := map[string]*lintpkg.Analyzer{}
	for _, set := range [][]*lintpkg.Analyzer{simple.Analyzers, staticcheck.Analyzers, stylecheck.Analyzers, {unused.Analyzer}} {
		for _, a := range set {
			all[a.Analyzer.Name] = a
		}
	}
	return all
}

// unusedRule is the ID staticcheck reports unused's findings under.
const unusedRule = "U1000"

// runStaticcheck runs staticcheck as its own command does (lintcmd's
// runner): package by package in dependency order, each loaded from
// source with its imports from export data, keeping only the facts a
// dependent needs. The facts and findings of each package go to a
// content-addressed cache in cacheDir, so memory stays near that of the
// largest package, and a run after a small change re-analyses only the
// packages it reaches. An empty cacheDir uses a temporary one.
func runStaticcheck(ctx context.Context, load *packages.Config, patterns []string, t Tool, cacheDir string) ([]Finding, error) {
	dir := load.Dir
	byID := staticcheckAnalyzers()
	known := make([]string, 0, len(byID))
	defaults := map[string]bool{}
	for id, a := range byID {
		known = append(known, id)
		defaults[id] = !a.Doc.NonDefault
	}
	sort.Strings(known)
	on, err := selectChecks(known, defaults, t.Checks)
	if err != nil {
		return nil, err
	}
	var run []*analysis.Analyzer
	for _, id := range known {
		if on[id] {
			run = append(run, byID[id].Analyzer)
		}
	}
	if len(run) == 0 {
		return nil, &FieldError{Field: "checks", Msg: "selects no staticcheck check (to skip staticcheck, disable it)"}
	}
	c, done, err := openCache(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("staticcheck cache: %w", err)
	}
	defer done()
	r, err := runner.New(config.Config{}, c)
	if err != nil {
		return nil, err
	}
	results, err := r.Run(load, run, patterns)
	if err != nil {
		return nil, fmt.Errorf("loading packages: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := failures(dir, results); err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, noPackages(patterns)
	}

	// As lintcmd does: an object unused in one variant of a package but
	// used in another (its tests) is used.
	type objKey struct {
		pkg, base  string
		line       int
		name, kind string
	}
	used := map[objKey]bool{}
	var unuseds []Finding
	var unusedKeys []objKey
	var fs []Finding
	for _, res := range results {
		if !res.Initial || res.Skipped {
			continue
		}
		data, err := res.Load()
		if err != nil {
			return nil, fmt.Errorf("staticcheck on %s: %w", res.Package.PkgPath, err)
		}
		here := relocate(res.Package.GoFiles, res.Package.CompiledGoFiles, res.Package.OtherFiles)
		for _, d := range data.Diagnostics {
			a := byID[d.Category]
			if a == nil || !on[d.Category] {
				// A check run only for what a selected one requires.
				continue
			}
			f := Finding{Tool: Staticcheck, Rule: d.Category, Severity: staticcheckSeverity(a.Doc.Severity), URL: a.Analyzer.URL, Title: a.Doc.Title}
			if x, ok := at(f, dir, here(d.Position)); ok {
				x.Message = d.Message
				fs = append(fs, x)
			}
		}
		for _, obj := range data.Unused.Used {
			used[objKey{res.Package.PkgPath, filepath.Base(obj.Position.Filename), obj.Position.Line, obj.Name, obj.Kind}] = true
		}
		if !on[unusedRule] {
			continue
		}
		a := byID[unusedRule]
		for _, obj := range data.Unused.Unused {
			f := Finding{Tool: Staticcheck, Rule: unusedRule, Severity: staticcheckSeverity(a.Doc.Severity), URL: a.Analyzer.URL, Title: a.Doc.Title}
			if x, ok := at(f, dir, here(obj.DisplayPosition)); ok {
				x.Message = fmt.Sprintf("%s %s is unused", obj.Kind, obj.Name)
				unuseds = append(unuseds, x)
				unusedKeys = append(unusedKeys, objKey{res.Package.PkgPath, filepath.Base(obj.Position.Filename), obj.Position.Line, obj.Name, obj.Kind})
			}
		}
	}
	for i, f := range unuseds {
		if !used[unusedKeys[i]] {
			fs = append(fs, f)
		}
	}
	return fs, nil
}

// relocate returns a function that moves a position in a file of the
// package, as cached, to that file where it is now. staticcheck keys a
// package on Go's build ID, which under -trimpath does not depend on where
// the module is: results cached for a checkout elsewhere (another CI
// workspace, another temporary copy) name the files there. A package's
// files share one directory and the build ID covers their names, so a
// base name identifies the file; a position in another file (//line) is
// left as it is.
func relocate(lists ...[]string) func(token.Position) token.Position {
	files := map[string]string{}
	for _, l := range lists {
		for _, f := range l {
			files[filepath.Base(f)] = f
		}
	}
	return func(p token.Position) token.Position {
		if cur, ok := files[filepath.Base(p.Filename)]; ok && p.Filename != "" {
			p.Filename = cur
		}
		return p
	}
}

// failures names the first errors of the packages, or of their
// dependencies, that did not load, type-check or analyse: an analysis of
// a package with errors would silently check less.
func failures(dir string, results []runner.Result) error {
	var errs []string
	failed := ""
	for _, res := range results {
		for _, e := range res.Errors {
			errs = append(errs, relativeError(dir, e.Error()))
		}
		if res.Failed && failed == "" {
			failed = res.Package.PkgPath
		}
	}
	if len(errs) == 0 && failed != "" {
		errs = append(errs, failed+" was not analysed")
	}
	if len(errs) == 0 {
		return nil
	}
	sort.Strings(errs)
	return fmt.Errorf("the packages do not load: %s", strings.Join(errs[:min(len(errs), 5)], "; "))
}

// openCache opens staticcheck's cache in dir, created if need be and
// readable by its owner only, or in a temporary directory when dir is
// empty; done closes it (trimming entries unused for days) and removes a
// temporary one.
func openCache(dir string) (cache.Cache, func(), error) {
	setSalt()
	done := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "paved-staticcheck-")
		if err != nil {
			return nil, nil, err
		}
		dir, done = tmp, func() { os.RemoveAll(tmp) }
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	c, err := cache.Open(dir)
	if err != nil {
		done()
		return nil, nil, err
	}
	return c, func() { c.Close(); done() }, nil
}

// setSalt makes the cache's keys depend on this program, as staticcheck's
// command does: results from another build, whose checks may differ, are
// never reused. A program that cannot name itself reuses nothing.
var setSalt = sync.OnceFunc(func() {
	salt, err := programID()
	if err != nil {
		salt = make([]byte, 32)
		rand.Read(salt)
	}
	cache.SetSalt(salt)
})

// programID is the running program's build ID, else its hash.
func programID() ([]byte, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if id, err := buildid.ReadFile(p); err == nil {
		return []byte(id), nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// at places a finding; false for a position outside the module (generated
// or //line-directed code elsewhere), which no exception could name.
func at(f Finding, dir string, pos token.Position) (Finding, bool) {
	f.File = relPath(dir, pos.Filename)
	f.Line, f.Col = pos.Line, pos.Column
	return f, f.File != ""
}

func staticcheckSeverity(s lintpkg.Severity) string {
	switch s {
	case lintpkg.SeverityError:
		return "HIGH"
	case lintpkg.SeverityWarning, lintpkg.SeverityDeprecated:
		return "MEDIUM"
	default:
		return "LOW"
	}
}
