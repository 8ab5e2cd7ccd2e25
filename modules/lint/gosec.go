package lint

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"sort"
	"strconv"
	"strings"

	"github.com/securego/gosec/v2"
	"github.com/securego/gosec/v2/analyzers"
	"github.com/securego/gosec/v2/rules"
	"golang.org/x/tools/go/packages"
)

// gosecRules are gosec's AST rules and SSA analyzers, by rule ID, with
// their descriptions.
func gosecRules() map[string]string {
	all := map[string]string{}
	for id, r := range rules.Generate(false).Rules {
		all[id] = r.Description
	}
	for id, a := range analyzers.Generate(false).Analyzers {
		all[id] = a.Description
	}
	return all
}

// runGosec loads the packages as gosec's command does (see loadForGosec) and
// checks them.
func runGosec(ctx context.Context, load *packages.Config, patterns []string, t Tool) ([]Finding, error) {
	dir := load.Dir
	titles := gosecRules()
	known := make([]string, 0, len(titles))
	defaults := map[string]bool{}
	for id := range titles {
		known = append(known, id)
		defaults[id] = true
	}
	sort.Strings(known)
	on, err := selectChecks(known, defaults, t.Checks)
	if err != nil {
		return nil, err
	}
	var include []string
	for _, id := range known {
		if on[id] {
			include = append(include, id)
		}
	}
	if len(include) == 0 {
		return nil, &FieldError{Field: "checks", Msg: "selects no gosec rule (to skip gosec, disable it)"}
	}
	pkgs, err := loadForGosec(load, patterns)
	if err != nil {
		return nil, err
	}
	conf := gosec.NewConfig()
	// Exceptions come from the gate's settings, with a reason and an
	// expiry; a #nosec comment has neither.
	conf.SetGlobal(gosec.Nosec, "true")
	var logs bytes.Buffer
	a := gosec.NewAnalyzer(conf, false, true, false, 1, log.New(&logs, "", 0))
	a.LoadRules(rules.Generate(false, rules.NewRuleFilter(false, include...)).RulesInfo())
	a.LoadAnalyzers(analyzers.Generate(false, analyzers.NewAnalyzerFilter(false, include...)).AnalyzersInfo())
	for _, p := range pkgs {
		a.CheckRules(p)
		a.CheckAnalyzers(p)
	}
	// gosec logs, rather than returns, an SSA it could not build: the
	// analyzers then checked nothing.
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "Error building the SSA") {
			return nil, fmt.Errorf("%s", relativeError(dir, strings.TrimSpace(line)))
		}
	}
	issues, _, errs := a.Report()
	for file, es := range errs {
		if len(es) > 0 {
			return nil, fmt.Errorf("%s: %s", relativeError(dir, file), es[0].Err)
		}
	}
	var fs []Finding
	for _, is := range issues {
		file := relPath(dir, is.File)
		if file == "" {
			continue
		}
		f := Finding{Tool: Gosec, Rule: is.RuleID, Severity: is.Severity.String(), Confidence: is.Confidence.String(),
			Title: titles[is.RuleID], Message: is.What, File: file, Line: firstLine(is.Line)}
		f.Col, _ = strconv.Atoi(is.Col)
		if is.Cwe != nil && is.Cwe.ID != "" {
			f.CWE, f.URL = is.Cwe.SprintID(), is.Cwe.SprintURL()
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// firstLine reads gosec's line, "12" or a range "12-14", as its first
// line; 0 when it is neither.
func firstLine(s string) int {
	first, _, _ := strings.Cut(s, "-")
	n, err := strconv.Atoi(first)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
