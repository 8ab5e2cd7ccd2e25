package lint

import (
	"fmt"
	"go/token"
	"sort"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"
	lintpkg "honnef.co/go/tools/analysis/lint"
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

func runStaticcheck(pkgs []*packages.Package, t Tool, dir string) ([]Finding, error) {
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
	g, err := checker.Analyze(run, pkgs, nil)
	if err != nil {
		return nil, fmt.Errorf("staticcheck: %w", err)
	}
	var fs []Finding
	for act := range g.All() {
		if !act.IsRoot {
			continue
		}
		if act.Err != nil {
			return nil, fmt.Errorf("%s on %s: %v", act.Analyzer.Name, act.Package.PkgPath, relativeError(dir, act.Err.Error()))
		}
		a := byID[act.Analyzer.Name]
		f := Finding{Tool: Staticcheck, Rule: act.Analyzer.Name, Severity: staticcheckSeverity(a.Doc.Severity), URL: act.Analyzer.URL, Title: a.Doc.Title}
		if a == unused.Analyzer {
			res, _ := act.Result.(unused.Result)
			f.Rule = unusedRule
			for _, obj := range res.Unused {
				if x, ok := at(f, dir, obj.DisplayPosition); ok {
					x.Message = fmt.Sprintf("%s %s is unused", obj.Kind, obj.Name)
					fs = append(fs, x)
				}
			}
			continue
		}
		for _, d := range act.Diagnostics {
			if x, ok := at(f, dir, act.Package.Fset.Position(d.Pos)); ok {
				x.Message = d.Message
				fs = append(fs, x)
			}
		}
	}
	return fs, nil
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
