package hostci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/runner"
)

// The lint step's SARIF (as modules/lint writes it) becomes findings on
// their lines: a blocking one an error, one the gate let through a
// warning; one an exception accepted is not shown.
func TestLintFindings(t *testing.T) {
	_, rep := workspace(t)
	rep.Scan, rep.Test, rep.Steps = nil, nil, nil
	sarif := filepath.Join(rep.Source.Dir, ".paved", "lint", "lint.sarif")
	os.MkdirAll(filepath.Dir(sarif), 0o755)
	if err := os.WriteFile(sarif, []byte(`{"version":"2.1.0","runs":[
{"tool":{"driver":{"name":"staticcheck","rules":[{"id":"SA4006"}]}},"invocations":[{"executionSuccessful":true}],"results":[
 {"ruleId":"SA4006","ruleIndex":0,"level":"warning","message":{"text":"this value of l is never used"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.go"},"region":{"startLine":17,"startColumn":2}}}]}]},
{"tool":{"driver":{"name":"gosec","rules":[{"id":"G404"},{"id":"G101"}]}},"invocations":[{"executionSuccessful":true}],"results":[
 {"ruleId":"G404","ruleIndex":0,"level":"error","message":{"text":"Use of weak random number generator"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"internal/store/store_test.go"},"region":{"startLine":12,"startColumn":30}}}]},
 {"ruleId":"G101","ruleIndex":1,"level":"note","message":{"text":"accepted"},"suppressions":[{"kind":"external","status":"accepted","justification":"fixture"}],
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.go"},"region":{"startLine":3}}}]}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep.Lint = &runner.LintReport{SARIF: sarif}
	fs, err := Findings(rep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{
		{Level: Warning, Title: "staticcheck SA4006", Message: "this value of l is never used", File: "main.go", Line: 17, Col: 2},
		{Level: Error, Title: "gosec G404", Message: "Use of weak random number generator", File: "internal/store/store_test.go", Line: 12, Col: 30},
	}
	if d := cmp.Diff(want, fs); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	rep.Lint.Tools = []runner.LintTool{{Tool: "staticcheck", Status: "checked", Rule: "fail on any finding", Passed: true, Counts: map[string]int{}},
		{Tool: "gosec", Status: "checked", Rule: "fail on any finding", Counts: map[string]int{"HIGH": 1}}}
	rep.Lint.Warnings = []string{"gosec: exception G101 expired after 2026-05-31, not honoured (1 findings)"}
	sum := string((&GitHub{}).summary(rep, "r.json", fs))
	for _, want := range []string{"| staticcheck | checked | fail on any finding: ✅ passed | 0 |", "| gosec | checked | fail on any finding: ❌ failed | 1 |",
		"- ⚠️ gosec: exception G101 expired after 2026-05-31, not honoured"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	rep.Lint.SARIF = filepath.Join(rep.Source.Dir, "missing.sarif")
	if _, err := Findings(rep); err == nil {
		t.Error("a lint SARIF that cannot be read is not an error")
	}
}
