package pipelines

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLintConfig(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name       string
		yaml       string
		lint, sast LintConfig
		wantErr    string // the field the error must name
	}{
		{name: "absent", yaml: ""},
		{name: "all fields",
			yaml: "lint:\n  enabled: false\n  checks: [all, -ST1000, SA*]\n  mode: warn\n" +
				"sast:\n  checks: [G4*]\n  severity: medium\n  ignore:\n    - {rule: G404, path: internal/*.go, reason: test fixtures, expires: 2027-01-31}\n",
			lint: LintConfig{Enabled: &no, Checks: []string{"all", "-ST1000", "SA*"}, Mode: "warn"},
			sast: LintConfig{Checks: []string{"G4*"}, Severity: "medium", Ignore: []CodeException{{Rule: "G404", Path: "internal/*.go", Reason: "test fixtures", Expires: "2027-01-31"}}}},
		{name: "exception without reason", yaml: "sast:\n  ignore:\n    - {rule: G404, expires: 2027-01-31}\n", wantErr: "paved.yaml: sast.ignore[0].reason"},
		{name: "exception with a blank reason", yaml: "lint:\n  ignore:\n    - {rule: SA4006, reason: \" \", expires: 2027-01-31}\n", wantErr: "lint.ignore[0].reason"},
		{name: "exception without expiry", yaml: "lint:\n  ignore:\n    - {rule: SA4006, reason: r}\n", wantErr: "lint.ignore[0].expires"},
		{name: "exception with a bad date", yaml: "sast:\n  ignore:\n    - {rule: G101, reason: r, expires: 2027-02-30}\n", wantErr: "sast.ignore[0].expires"},
		{name: "exception with a time", yaml: "sast:\n  ignore:\n    - {rule: G101, reason: r, expires: \"2027-01-31 10:00\"}\n", wantErr: "sast.ignore[0].expires"},
		{name: "exception without rule", yaml: "sast:\n  ignore:\n    - {reason: r, expires: 2027-01-31}\n", wantErr: "sast.ignore[0].rule"},
		{name: "exception for a glob of rules", yaml: "sast:\n  ignore:\n    - {rule: G4*, reason: r, expires: 2027-01-31}\n", wantErr: "sast.ignore[0].rule"},
		{name: "exception outside the service", yaml: "lint:\n  ignore:\n    - {rule: SA4006, path: ../x.go, reason: r, expires: 2027-01-31}\n", wantErr: "lint.ignore[0].path"},
		{name: "exception with a bad glob", yaml: "lint:\n  ignore:\n    - {rule: SA4006, path: \"[\", reason: r, expires: 2027-01-31}\n", wantErr: "lint.ignore[0].path"},
		{name: "unknown exception field", yaml: "lint:\n  ignore:\n    - {rule: SA4006, because: x}\n", wantErr: "ignore[].because"},
		{name: "unknown lint field", yaml: "lint:\n  level: high\n", wantErr: "paved.yaml: lint.level"},
		{name: "unknown sast field", yaml: "sast:\n  confidence: high\n", wantErr: "paved.yaml: sast.confidence"},
		{name: "bad severity", yaml: "sast:\n  severity: critical\n", wantErr: "sast.severity"},
		{name: "bad mode", yaml: "lint:\n  mode: ignore\n", wantErr: "lint.mode"},
		{name: "bad check", yaml: "lint:\n  checks: [\"SA 4006\"]\n", wantErr: "lint.checks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig([]byte(tc.yaml))
			if tc.wantErr != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a ConfigError naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.lint, got.Lint); d != "" {
				t.Errorf("lint (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.sast, LintConfig(got.SAST)); d != "" {
				t.Errorf("sast (-want +got):\n%s", d)
			}
		})
	}
}
