package scan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v2/sarif"
)

func sampleReport() *Report {
	yes, no := true, false
	fs := normalize([]Finding{
		{ID: critCVE, Aliases: []string{critGO}, Package: fixtureModule, Version: "v1.6.0", FixedVersion: "1.6.1", Severity: "CRITICAL",
			Title: "uuid: predictable NewString", URL: "https://avd.aquasec.com/nvd/cve-2099-0001", Scanner: Trivy, Target: "linux/amd64", Location: "app/vulnsvc"},
		{ID: critCVE, Package: fixtureModule, Version: "v1.6.0", FixedVersion: "1.6.1", Severity: "CRITICAL",
			Scanner: Trivy, Target: "linux/arm64", Location: "app/vulnsvc"},
		{ID: highCVE, Package: fixtureModule, Version: "v1.6.0", Severity: "HIGH", Scanner: Trivy, Target: "linux/amd64", Location: "app/vulnsvc", Ignored: "not reachable"},
		{ID: "CVE-2099-0003", Package: "stdlib", Version: "v1.26.8", Severity: "MEDIUM", Scanner: Trivy, Target: "linux/amd64", Location: "app/vulnsvc"},
		{ID: "CVE-2099-0004", Package: "stdlib", Version: "v1.26.8", Severity: "LOW", Scanner: Trivy, Target: "linux/amd64"},
		{ID: critGO, Aliases: []string{critCVE}, Package: fixtureModule, Version: "v1.6.0", FixedVersion: "v1.6.1", Severity: "CRITICAL",
			URL: "https://pkg.go.dev/vuln/GO-2099-0001", Scanner: Govulncheck, Target: TargetSource, Reachable: &yes, Location: "cmd/svc/main.go:9"},
		{ID: highGO, Package: fixtureModule, Version: "v1.6.0", Severity: "UNKNOWN", Scanner: Govulncheck, Target: TargetSource, Reachable: &no},
	})
	return &Report{Findings: fs, Counts: count(fs), Scanners: []string{Trivy, Govulncheck}}
}

func TestWriteSARIF(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}

	// An independent reader of SARIF 2.1.0.
	log, err := sarif.FromBytes(buf.Bytes())
	if err != nil {
		t.Fatalf("go-sarif cannot read the output: %v", err)
	}
	if log.Version != "2.1.0" || log.Schema != SARIFSchema {
		t.Errorf("version %q, $schema %q", log.Version, log.Schema)
	}
	type result struct{ Rule, Level, URI string }
	got := map[string][]result{}
	for _, run := range log.Runs {
		d := run.Tool.Driver
		if d == nil || d.Name == "" {
			t.Fatal("a run without tool.driver.name")
		}
		for _, r := range run.Results {
			if r.RuleID == nil || r.Message.Text == nil || *r.Message.Text == "" || r.Level == nil {
				t.Fatalf("%s: a result without ruleId, message.text or level: %+v", d.Name, r)
			}
			if r.RuleIndex == nil || *r.RuleIndex >= uint(len(d.Rules)) || d.Rules[*r.RuleIndex].ID != *r.RuleID {
				t.Errorf("%s: result %s: ruleIndex does not point at its rule", d.Name, *r.RuleID)
			}
			res := result{Rule: *r.RuleID, Level: *r.Level}
			if len(r.Locations) > 0 {
				res.URI = *r.Locations[0].PhysicalLocation.ArtifactLocation.URI
			}
			got[d.Name] = append(got[d.Name], res)
		}
		ids := map[string]bool{}
		for _, rule := range d.Rules {
			if ids[rule.ID] {
				t.Errorf("%s: rule %s twice", d.Name, rule.ID)
			}
			ids[rule.ID] = true
			if rule.ShortDescription == nil || rule.ShortDescription.Text == nil {
				t.Errorf("%s: rule %s without shortDescription", d.Name, rule.ID)
			}
		}
	}
	want := map[string][]result{
		Trivy: {
			{critCVE, "error", "app/vulnsvc"},
			{critCVE, "error", "app/vulnsvc"},
			{highCVE, "error", "app/vulnsvc"},
			{"CVE-2099-0003", "warning", "app/vulnsvc"},
			{"CVE-2099-0004", "note", ""},
		},
		Govulncheck: {
			{critGO, "error", "cmd/svc/main.go"},
			{highGO, "note", "go.mod"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results by run (-want +got):\n%s", diff)
	}
	if len(log.Runs) != 2 || log.Runs[0].Tool.Driver.Name != Trivy || log.Runs[1].Tool.Driver.Name != Govulncheck {
		t.Errorf("want one run per scanner, trivy then govulncheck")
	}

	// Details go-sarif's types do not expose as plainly.
	var raw struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string
						Properties map[string]any
					}
				}
			}
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation struct {
						Region *struct{ StartLine int }
					}
				}
				Suppressions []struct{ Kind, Status, Justification string }
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if s := raw.Runs[0].Tool.Driver.Rules[0].Properties["security-severity"]; s != "9.5" {
		t.Errorf("security-severity of %s: %v", raw.Runs[0].Tool.Driver.Rules[0].ID, s)
	}
	for _, r := range raw.Runs[0].Results {
		if (r.RuleID == highCVE) != (len(r.Suppressions) == 1) {
			t.Errorf("%s suppressions %+v", r.RuleID, r.Suppressions)
		}
		if len(r.Suppressions) == 1 && (r.Suppressions[0].Justification != "not reachable" || r.Suppressions[0].Kind != "external") {
			t.Errorf("suppression %+v", r.Suppressions[0])
		}
	}
	if reg := raw.Runs[1].Results[0].Locations[0].PhysicalLocation.Region; reg == nil || reg.StartLine != 9 {
		t.Errorf("call site region %+v, want line 9", reg)
	}
}

var updateSARIF = flag.Bool("update-sarif", false, "rewrite testdata/sample.sarif")

// TestWriteSARIFGolden compares the sample report's SARIF with the one
// checked in, as JSON values (member order and spacing aside), so a change
// of writer cannot change what code-scanning services read. The scanners'
// versions come from this binary's build info and are left out.
func TestWriteSARIFGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.sarif")
	if *updateSARIF {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sarifValue(t, want), sarifValue(t, buf.Bytes())); diff != "" {
		t.Errorf("SARIF differs from %s (-want +got):\n%s", golden, diff)
	}
	// The SARIF schema has no null member anywhere: a null fails the
	// validation code-scanning uploads run.
	if strings.Contains(buf.String(), "null") {
		t.Errorf("SARIF holds a null:\n%s", buf.String())
	}
	if !strings.HasSuffix(buf.String(), "}\n") {
		t.Error("SARIF does not end with a newline")
	}
}

// sarifValue decodes a SARIF log as a JSON value without the drivers'
// versions.
func sarifValue(t *testing.T, b []byte) any {
	t.Helper()
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	runs, _ := all["runs"].([]any)
	for _, r := range runs {
		if driver, ok := r.(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any); ok {
			delete(driver, "version")
		}
	}
	return all
}

func TestWriteSARIFEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Report{Scanners: []string{Govulncheck}}).WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}
	log, err := sarif.FromBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != Govulncheck || log.Runs[0].Results == nil {
		t.Errorf("want one govulncheck run with an empty results array: %s", buf.String())
	}
}

func TestWriteJSON(t *testing.T) {
	rep := sampleReport()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*rep, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
