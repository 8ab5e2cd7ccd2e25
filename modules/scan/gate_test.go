package scan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluate(t *testing.T) {
	fs := []Finding{
		{ID: "CVE-C-FIX", Severity: "CRITICAL", FixedVersion: "1.2.3"},
		{ID: "CVE-C-NOFIX", Severity: "CRITICAL"},
		{ID: "CVE-H-FIX", Severity: "HIGH", FixedVersion: "2.0.0"},
		{ID: "CVE-C-IGNORED", Severity: "CRITICAL", FixedVersion: "1", Ignored: "accepted"},
		{ID: "CVE-L", Severity: "LOW", FixedVersion: "1"},
	}
	tests := []struct {
		gate     Gate
		rule     string
		violated []string
	}{
		{Gate{}, "fail on CRITICAL with a fix available", []string{"CVE-C-FIX"}},
		{Gate{AnyFix: true}, "fail on CRITICAL with or without a fix", []string{"CVE-C-FIX", "CVE-C-NOFIX"}},
		{Gate{Severities: []string{"high", "critical"}}, "fail on CRITICAL, HIGH with a fix available", []string{"CVE-C-FIX", "CVE-H-FIX"}},
		{Gate{Severities: []string{"MEDIUM"}}, "fail on MEDIUM with a fix available", nil},
	}
	for _, tt := range tests {
		sevs, err := tt.gate.severities()
		if err != nil {
			t.Fatal(err)
		}
		res := evaluate(fs, sevs, tt.gate.AnyFix)
		var got []string
		for _, v := range res.Violations {
			got = append(got, v.ID)
		}
		if res.Rule != tt.rule || res.Passed != (len(tt.violated) == 0) {
			t.Errorf("%+v: rule %q passed %v, want %q", tt.gate, res.Rule, res.Passed, tt.rule)
		}
		if diff := cmp.Diff(tt.violated, got); diff != "" {
			t.Errorf("%+v: violations (-want +got):\n%s", tt.gate, diff)
		}
	}
	if _, err := (Gate{Severities: []string{"BAD"}}).severities(); err == nil {
		t.Error("unknown severity accepted")
	}
}

func TestGateErrorMessage(t *testing.T) {
	var vs []Finding
	for _, id := range []string{"A", "A", "B", "C", "D", "E", "F", "G"} {
		vs = append(vs, Finding{ID: "CVE-" + id, Severity: "CRITICAL", Package: "p", Version: "v1", FixedVersion: "v2"})
	}
	msg := (&GateError{Violations: vs, Rule: "fail on CRITICAL with a fix available"}).Error()
	for _, s := range []string{`"fail on CRITICAL with a fix available"`, "CVE-A CRITICAL in p v1 (fixed in v2)", "CVE-E", "and 2 more"} {
		if !strings.Contains(msg, s) {
			t.Errorf("%q lacks %q", msg, s)
		}
	}
	if strings.Count(msg, "CVE-A") != 1 || strings.Contains(msg, "CVE-F") {
		t.Errorf("%q: want each ID once, at most five", msg)
	}
}

func TestNormalize(t *testing.T) {
	yes, no := true, false
	got := normalize([]Finding{
		{ID: "CVE-2", Severity: "low", Scanner: Trivy, Target: "linux/amd64", Package: "p", Version: "1"},
		{ID: "CVE-1", Severity: "HIGH", Scanner: Trivy, Target: "linux/arm64", Package: "p", Version: "1"},
		{ID: "CVE-1", Severity: "HIGH", Scanner: Trivy, Target: "linux/amd64", Package: "p", Version: "1", Aliases: []string{"GHSA-1"}},
		{ID: "CVE-1", Severity: "CRITICAL", Scanner: Trivy, Target: "linux/amd64", Package: "p", Version: "1", FixedVersion: "2", Aliases: []string{"GHSA-1", "CVE-1", "GO-1"}},
		{ID: "GO-1", Severity: "weird", Scanner: Govulncheck, Target: TargetSource, Package: "p", Version: "v1", Reachable: &no},
		{ID: "GO-1", Severity: "", Scanner: Govulncheck, Target: TargetSource, Package: "p", Version: "v1", Reachable: &yes, Location: "main.go:3"},
	})
	want := []Finding{
		{ID: "CVE-1", Severity: "CRITICAL", Scanner: Trivy, Target: "linux/amd64", Package: "p", Version: "1", FixedVersion: "2", Aliases: []string{"GHSA-1", "GO-1"}},
		{ID: "CVE-1", Severity: "HIGH", Scanner: Trivy, Target: "linux/arm64", Package: "p", Version: "1"},
		{ID: "CVE-2", Severity: "LOW", Scanner: Trivy, Target: "linux/amd64", Package: "p", Version: "1"},
		{ID: "GO-1", Severity: "UNKNOWN", Scanner: Govulncheck, Target: TargetSource, Package: "p", Version: "v1", Reachable: &yes, Location: "main.go:3"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("normalize (-want +got):\n%s", diff)
	}
}
