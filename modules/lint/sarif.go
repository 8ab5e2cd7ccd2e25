package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/owenrumney/go-sarif/v2/sarif"
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
	log, err := sarif.New(sarif.Version210)
	if err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	for _, t := range r.Tools {
		if t.Status == Disabled {
			continue
		}
		log.AddRun(sarifRun(t, r.Findings))
	}
	b, err := json.Marshal(log)
	if err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	// go-sarif v2 writes a suppression's unset location and guid as null,
	// which the SARIF schema refuses (as in package scan).
	var doc any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(dropNulls(doc))
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

func sarifRun(t ToolResult, fs []Finding) *sarif.Run {
	driver := sarif.NewDriver(t.Tool).WithInformationURI(toolURI[t.Tool])
	if t.Version != "" {
		driver.WithVersion(t.Version)
	}
	driver.Rules = []*sarif.ReportingDescriptor{}
	run := sarif.NewRun(*sarif.NewTool(driver))
	run.Results = []*sarif.Result{}
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
	region := sarif.NewRegion()
	if f.Line > 0 {
		region.WithStartLine(f.Line)
		if f.Col > 0 {
			region.WithStartColumn(f.Col)
		}
	}
	phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation((&url.URL{Path: f.File}).String()))
	if f.Line > 0 {
		phys.WithRegion(region)
	}
	res.WithLocations([]*sarif.Location{sarif.NewLocationWithPhysicalLocation(phys)})
	if f.Ignored != "" {
		res.WithSuppression([]*sarif.Suppression{sarif.NewSuppression("external").WithStatus("accepted").WithJustifcation(f.Ignored)})
	}
	return res
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
