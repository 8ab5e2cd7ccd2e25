package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/testfs"
	"github.com/pavedhq/paved/runner"
)

// seededService copies modules/lint's seeded service (one gosec G404 at
// main.go:12, one staticcheck SA4006 at main.go:17) with a paved.yaml.
func seededService(t *testing.T, pavedYAML string) string {
	t.Helper()
	src := testfs.CopyTree(t, "../modules/lint/testdata/seeded", t.TempDir())
	if err := os.WriteFile(filepath.Join(src, "paved.yaml"), []byte("test: {coverage: 0}\n"+pavedYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// TestLintGate runs paved test (go vet and the tests, then staticcheck and
// gosec in paved-worker) on a service with one finding of each tool: the
// gate fails with exit 1 naming them, an exception with a reason lets them
// pass until it expires, and an expired one no longer does.
func TestLintGate(t *testing.T) {
	exceptions := func(expires string) string {
		return "lint:\n  ignore:\n    - {rule: SA4006, path: main.go, reason: kept for the gate's test, expires: " + expires + "}\n" +
			"sast:\n  ignore:\n    - {rule: G404, reason: kept for the gate's test, expires: " + expires + "}\n"
	}
	cache := t.TempDir() // shared: the settings key the step, so each case runs it
	for _, tc := range []struct {
		name, yaml string
		code       int
	}{
		{"no exception", "", 1},
		{"unexpired exceptions", exceptions("2099-12-31"), 0},
		{"expired exceptions", exceptions("2020-01-31"), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := seededService(t, tc.yaml)
			r := paved(t, nil, "test", "--source", src, "--cache-dir", cache)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
			// Lint reads what the tests compiled: it waits for them,
			// without depending on them.
			for _, st := range rep.Steps {
				if st.Name == "lint" && (!slices.Equal(st.After, []string{"test"}) || len(st.Needs) != 0) {
					t.Errorf("lint step: after %v, needs %v; want after [test], no needs", st.After, st.Needs)
				}
			}
			l := rep.Lint
			if l == nil || l.Passed != (tc.code == 0) || len(l.Tools) != 2 {
				t.Fatalf("lint report: %+v", l)
			}
			got := map[string]runner.LintFinding{}
			for _, f := range l.Findings {
				got[f.Rule] = f
			}
			for rule, want := range map[string]runner.LintFinding{
				"G404":   {Tool: "gosec", Severity: "HIGH", File: "main.go", Line: 12},
				"SA4006": {Tool: "staticcheck", Severity: "MEDIUM", File: "main.go", Line: 17},
			} {
				f := got[rule]
				if f.Tool != want.Tool || f.File != want.File || f.Line != want.Line || f.Severity != want.Severity {
					t.Errorf("%s: %+v", rule, f)
				}
				switch tc.name {
				case "no exception":
					if !f.Blocking || f.Ignored != "" {
						t.Errorf("%s: %+v", rule, f)
					}
					if !strings.Contains(r.stderr, rule) || !strings.Contains(r.stderr, "main.go:"+strconv.Itoa(want.Line)) {
						t.Errorf("stderr does not name %s at main.go:%d:\n%s", rule, want.Line, r.stderr)
					}
				case "unexpired exceptions":
					if f.Blocking || f.Ignored != "kept for the gate's test" {
						t.Errorf("%s: %+v", rule, f)
					}
				case "expired exceptions":
					if !f.Blocking || f.Ignored != "" || f.Expired != "2020-01-31" {
						t.Errorf("%s: %+v", rule, f)
					}
				}
			}
			if tc.name == "expired exceptions" && !strings.Contains(strings.Join(l.Warnings, "\n"), "expired after 2020-01-31, not honoured") {
				t.Errorf("the report does not say the exceptions expired: %q", l.Warnings)
			}
			checkLintSARIF(t, l.SARIF, tc.code == 0)
		})
	}
	// staticcheck kept its per-package results in paved's cache directory,
	// for the next run after a change.
	if es, err := os.ReadDir(filepath.Join(cache, "staticcheck")); err != nil || len(es) == 0 {
		t.Errorf("staticcheck's cache in the cache directory: %d entries, %v", len(es), err)
	}
}

// checkLintSARIF reads the exported SARIF: a run per tool, each with its
// finding at its line, suppressed when an exception accepted it.
func checkLintSARIF(t *testing.T, path string, suppressed bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lint SARIF: %v", err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Name string } `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID       string            `json:"ruleId"`
				Suppressions []json.RawMessage `json:"suppressions"`
				Locations    []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, run := range log.Runs {
		for _, res := range run.Results {
			if res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "main.go" || (len(res.Suppressions) > 0) != suppressed {
				t.Errorf("%s %s: %+v", run.Tool.Driver.Name, res.RuleID, res)
			}
			seen[run.Tool.Driver.Name+" "+res.RuleID] = true
		}
	}
	if !seen["gosec G404"] || !seen["staticcheck SA4006"] {
		t.Errorf("SARIF results: %v\n%s", seen, b)
	}
}
