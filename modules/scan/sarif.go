package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// SARIF 2.1.0, the format code-scanning services read.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"
)

// The subset of SARIF 2.1.0 a vulnerability report uses.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string         `json:"id"`
		ShortDescription     sarifText      `json:"shortDescription"`
		HelpURI              string         `json:"helpUri,omitempty"`
		Help                 *sarifText     `json:"help,omitempty"`
		DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
		Properties           map[string]any `json:"properties,omitempty"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID       string             `json:"ruleId"`
		RuleIndex    int                `json:"ruleIndex"`
		Level        string             `json:"level"`
		Message      sarifText          `json:"message"`
		Locations    []sarifLocation    `json:"locations,omitempty"`
		Suppressions []sarifSuppression `json:"suppressions,omitempty"`
		Properties   map[string]any     `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Status        string `json:"status"`
		Justification string `json:"justification"`
	}
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
	log := sarifLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []sarifRun{}}
	for _, s := range scanners {
		log.Runs = append(log.Runs, sarifRunOf(s, r.Findings))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func sarifRunOf(scanner string, fs []Finding) sarifRun {
	tool := sarifTools[scanner]
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           scanner,
			Version:        moduleVersion(tool.module),
			InformationURI: tool.uri,
			Rules:          []sarifRule{},
		}},
		Results: []sarifResult{},
	}
	ruleIndex := map[string]int{}
	for _, f := range fs {
		if f.Scanner != scanner {
			continue
		}
		i, ok := ruleIndex[f.ID]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			ruleIndex[f.ID] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(f))
		} else if rank(f.Severity) < rank(run.Tool.Driver.Rules[i].Properties["severity"].(string)) {
			// Findings are sorted most severe first, so this only happens
			// for hand-built reports; keep the rule at the worst severity.
			run.Tool.Driver.Rules[i] = sarifRuleOf(f)
		}
		run.Results = append(run.Results, sarifResultOf(f, i))
	}
	return run
}

func sarifRuleOf(f Finding) sarifRule {
	title := f.Title
	if title == "" {
		title = f.ID
	}
	r := sarifRule{
		ID:                   f.ID,
		ShortDescription:     sarifText{Text: title},
		DefaultConfiguration: sarifConfig{Level: sarifLevel(f.Severity)},
		Properties: map[string]any{
			"severity": f.Severity,
			"tags":     []string{"security", "vulnerability", f.Severity},
		},
	}
	if s, ok := securitySeverity[f.Severity]; ok {
		r.Properties["security-severity"] = s
	}
	if isAbsURL(f.URL) {
		r.HelpURI = f.URL
		r.Help = &sarifText{Text: title + "\n" + f.URL}
	}
	return r
}

func sarifResultOf(f Finding, ruleIndex int) sarifResult {
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
	res := sarifResult{
		RuleID:    f.ID,
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: msg},
		Properties: map[string]any{
			"package":          f.Package,
			"installedVersion": f.Version,
			"target":           f.Target,
			"severity":         f.Severity,
		},
	}
	if f.FixedVersion != "" {
		res.Properties["fixedVersion"] = f.FixedVersion
	}
	if f.Reachable != nil {
		res.Properties["reachable"] = *f.Reachable
	}
	if loc := sarifLocationOf(f); loc != nil {
		res.Locations = []sarifLocation{*loc}
	}
	if f.Ignored != "" {
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.Ignored}}
	}
	return res
}

// sarifLocationOf points at the binary in the image for Trivy, and at the
// call site (or go.mod, for a module that is only required) for govulncheck.
func sarifLocationOf(f Finding) *sarifLocation {
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
	loc := &sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: file}).String()}}}
	if line > 0 {
		loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
	}
	return loc
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

// moduleVersion is the version of a module linked into this program.
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, m := range bi.Deps {
		if m.Path == path {
			if m.Replace != nil {
				return m.Replace.Version
			}
			return m.Version
		}
	}
	return ""
}
