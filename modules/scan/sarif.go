package scan

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"

	sariflog "github.com/pavedhq/paved/internal/sarif"
)

// SARIF 2.1.0, the format code-scanning services read.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"
)

var sarifTools = map[string]struct{ module, uri string }{
	Trivy:       {"github.com/aquasecurity/trivy", "https://trivy.dev/"},
	Govulncheck: {"golang.org/x/vuln", "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck"},
}

// WriteSARIF writes the report as SARIF 2.1.0: one run per scanner that
// ran, a rule per vulnerability ID, a result per finding with its level
// from the severity; ignored findings carry an accepted suppression with
// the reason.
func (r *Report) WriteSARIF(w io.Writer) error {
	scanners := slices.Clone(r.Scanners)
	for _, f := range r.Findings {
		if !slices.Contains(scanners, f.Scanner) {
			scanners = append(scanners, f.Scanner)
		}
	}
	var runs []*sarif.Run
	for _, s := range scanners {
		runs = append(runs, sarifRunOf(s, r.Findings))
	}
	return sariflog.Write(w, runs)
}

func sarifRunOf(scanner string, fs []Finding) *sarif.Run {
	tool := sarifTools[scanner]
	driver := sarif.NewDriver(scanner)
	if v := sariflog.ModuleVersion(tool.module); v != "" {
		driver.WithVersion(v)
	}
	if tool.uri != "" {
		driver.WithInformationURI(tool.uri)
	}
	run := sariflog.NewRun(driver)
	ruleIndex := map[string]int{}
	severity := map[string]string{}
	for _, f := range fs {
		if f.Scanner != scanner {
			continue
		}
		i, ok := ruleIndex[f.ID]
		if !ok {
			i = len(driver.Rules)
			ruleIndex[f.ID] = i
			driver.Rules = append(driver.Rules, sarifRuleOf(f))
			severity[f.ID] = f.Severity
		} else if rank(f.Severity) < rank(severity[f.ID]) {
			// Findings are sorted most severe first, so this only happens
			// for hand-built reports; keep the rule at the worst severity.
			driver.Rules[i] = sarifRuleOf(f)
			severity[f.ID] = f.Severity
		}
		run.AddResult(sarifResultOf(f, i))
	}
	return run
}

func sarifRuleOf(f Finding) *sarif.ReportingDescriptor {
	title := f.Title
	if title == "" {
		title = f.ID
	}
	r := sarif.NewRule(f.ID).
		WithShortDescription(sarif.NewMultiformatMessageString(title)).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(f.Severity)))
	r.Properties = sarif.Properties{
		"severity": f.Severity,
		"tags":     []string{"security", "vulnerability", f.Severity},
	}
	if s, ok := securitySeverity[f.Severity]; ok {
		r.Properties["security-severity"] = s
	}
	if isAbsURL(f.URL) {
		r.WithHelpURI(f.URL).WithHelp(sarif.NewMultiformatMessageString(title + "\n" + f.URL))
	}
	return r
}

func sarifResultOf(f Finding, ruleIndex int) *sarif.Result {
	msg := fmt.Sprintf("%s %s: %s (%s)", f.Package, f.Version, f.ID, f.Severity)
	if f.FixedVersion != "" {
		msg += ", fixed in " + f.FixedVersion
	} else {
		msg += ", no fix available"
	}
	msg += "; " + f.Target
	if f.Reachable != nil {
		if *f.Reachable {
			msg += ", a vulnerable symbol is called"
		} else {
			msg += ", no vulnerable symbol is called"
		}
	}
	res := sarif.NewRuleResult(f.ID).
		WithRuleIndex(ruleIndex).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(msg))
	res.Properties = sarif.Properties{
		"package":          f.Package,
		"installedVersion": f.Version,
		"target":           f.Target,
		"severity":         f.Severity,
	}
	if f.FixedVersion != "" {
		res.Properties["fixedVersion"] = f.FixedVersion
	}
	if f.Reachable != nil {
		res.Properties["reachable"] = *f.Reachable
	}
	if loc := sarifLocationOf(f); loc != nil {
		res.WithLocations([]*sarif.Location{loc})
	}
	if f.Ignored != "" {
		res.WithSuppression(sariflog.Accepted(f.Ignored))
	}
	return res
}

// sarifLocationOf points at the binary in the image for Trivy, and at the
// call site (or go.mod, for a module that is only required) for govulncheck.
func sarifLocationOf(f Finding) *sarif.Location {
	file, line := f.Location, 0
	if f.Scanner == Govulncheck {
		if i := strings.LastIndex(file, ":"); i >= 0 {
			if n, err := strconv.Atoi(file[i+1:]); err == nil && n > 0 {
				file, line = file[:i], n
			}
		}
		if file == "" {
			file = "go.mod"
		}
	}
	if file == "" {
		return nil
	}
	return sariflog.Location(file, line, 0)
}

// sarifLevel maps a severity to a SARIF level.
func sarifLevel(sev string) string {
	switch sev {
	case "CRITICAL", "HIGH":
		return "error"
	case "MEDIUM":
		return "warning"
	default:
		return "note"
	}
}

// securitySeverity is the CVSS-like score code-scanning services bucket
// results by (critical above 9.0, high from 7.0, medium from 4.0).
var securitySeverity = map[string]string{"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0"}

func isAbsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != ""
}
