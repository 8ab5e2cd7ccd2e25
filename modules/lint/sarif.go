package lint

import (
	"encoding/json"
	"io"
	"net/url"

	"github.com/owenrumney/go-sarif/v2/sarif"

	sariflog "github.com/pavedhq/paved/internal/sarif"
)

var toolURI = map[string]string{
	Staticcheck: "https://staticcheck.dev/",
	Gosec:       "https://github.com/securego/gosec",
}

// WriteSARIF writes the report as SARIF 2.1.0: one run per tool that was
// asked to run, a rule per rule ID, a result per finding at its file and
// line relative to the module. A blocking finding is an error, one the
// gate lets through a warning (or a note below its threshold); an accepted
// one carries an accepted suppression with the exception's reason. A tool
// that could not run has an unsuccessful invocation saying why.
func (r *Report) WriteSARIF(w io.Writer) error {
	var runs []*sarif.Run
	for _, t := range r.Tools {
		if t.Status == Disabled {
			continue
		}
		runs = append(runs, sarifRun(t, r.Findings))
	}
	return sariflog.Write(w, runs)
}

func sarifRun(t ToolResult, fs []Finding) *sarif.Run {
	driver := sarif.NewDriver(t.Tool).WithInformationURI(toolURI[t.Tool])
	if t.Version != "" {
		driver.WithVersion(t.Version)
	}
	run := sariflog.NewRun(driver)
	inv := run.AddInvocation(t.Status == Checked)
	if t.Error != "" {
		inv.ToolExecutionNotifications = []*sarif.Notification{sarif.NewNotification().WithLevel("error").WithTextMessage(t.Error)}
	}
	ruleIndex := map[string]int{}
	for _, f := range fs {
		if f.Tool != t.Tool {
			continue
		}
		i, ok := ruleIndex[f.Rule]
		if !ok {
			i = len(driver.Rules)
			ruleIndex[f.Rule] = i
			driver.Rules = append(driver.Rules, sarifRule(f))
		}
		run.AddResult(sarifResult(f, i))
	}
	return run
}

func sarifRule(f Finding) *sarif.ReportingDescriptor {
	title := f.Title
	if title == "" {
		title = f.Rule
	}
	r := sarif.NewRule(f.Rule).WithShortDescription(sarif.NewMultiformatMessageString(title))
	tags := []string{"maintainability"}
	if f.Tool == Gosec {
		tags = []string{"security"}
		if f.CWE != "" {
			tags = append(tags, "external/cwe/"+f.CWE)
		}
	}
	r.Properties = sarif.Properties{"tags": tags, "severity": f.Severity}
	if u, err := url.Parse(f.URL); err == nil && u.IsAbs() {
		r.WithHelpURI(f.URL)
	}
	return r
}

func sarifResult(f Finding, ruleIndex int) *sarif.Result {
	level := "note"
	switch {
	case f.Blocking:
		level = "error"
	case f.Ignored == "":
		level = "warning"
	}
	res := sarif.NewRuleResult(f.Rule).WithRuleIndex(ruleIndex).WithLevel(level).WithMessage(sarif.NewTextMessage(f.Message))
	res.Properties = sarif.Properties{"severity": f.Severity}
	if f.Confidence != "" {
		res.Properties["confidence"] = f.Confidence
	}
	if f.Expired != "" {
		res.Properties["exceptionExpired"] = f.Expired
	}
	res.WithLocations([]*sarif.Location{sariflog.Location(f.File, f.Line, f.Col)})
	if f.Ignored != "" {
		res.WithSuppression(sariflog.Accepted(f.Ignored))
	}
	return res
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
