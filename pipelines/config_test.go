package pipelines

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/modules/scan/expiry"
)

func TestParseConfig(t *testing.T) {
	cov := func(v float64) *float64 { return &v }
	yes, no := true, false
	tests := []struct {
		name    string
		yaml    string
		want    Config
		wantErr string // the field the error must name
	}{
		{name: "empty gives defaults", yaml: "", want: Config{Main: ".", Platforms: DefaultPlatforms, Base: "paved",
			Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes}, Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &yes}}},
		{name: "all fields", yaml: "team: payments\nservice: api\npath: go-service\nmain: ./cmd/api\nplatforms: [linux/arm64]\nbase: paved\nimage: localhost:5000/x\ntags: [v1]\ntest:\n  coverage: 70\n  packages: [./internal/...]\n  vet: true\n",
			want: Config{Team: "payments", Service: "api", Path: "go-service", Main: "./cmd/api", Platforms: []string{"linux/arm64"}, Base: "paved",
				Image: "localhost:5000/x", Tags: []string{"v1"}, Test: TestConfig{Coverage: cov(70), Packages: []string{"./internal/..."}, Vet: &yes},
				Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &yes}}},
		{name: "scan and sign", yaml: "scan:\n  vulnDB: /db\n  severities: [critical, HIGH]\n  ignore:\n    - {id: CVE-1, reason: unreachable, expires: 2027-01-31}\nsign:\n  identity: ci@example.com\n  issuer: https://issuer.example\n",
			want: Config{Main: ".", Platforms: DefaultPlatforms, Base: "paved", Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes},
				Scan: ScanConfig{VulnDB: "/db", Required: &yes, Severities: []string{"CRITICAL", "HIGH"}, Ignore: []IgnoreConfig{{ID: "CVE-1", Reason: "unreachable", Expires: "2027-01-31"}}},
				Sign: SignConfig{Identity: "ci@example.com", Issuer: "https://issuer.example"}}},
		{name: "test env", yaml: "test:\n  env: [DATABASE_URL, _X1]\n",
			want: Config{Main: ".", Platforms: DefaultPlatforms, Base: "paved", Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes, Env: []string{"DATABASE_URL", "_X1"}},
				Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &yes}}},
		{name: "test env not a name", yaml: "test:\n  env: [A=b]\n", wantErr: "test.env"},
		{name: "scan not required", yaml: "scan:\n  required: false\n",
			want: Config{Main: ".", Platforms: DefaultPlatforms, Base: "paved", Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes},
				Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &no}}},
		{name: "identity without issuer", yaml: "sign:\n  identity: ci@example.com\n", wantErr: "paved.yaml: sign"},
		{name: "issuer without identity", yaml: "sign:\n  issuer: https://issuer.example\n", wantErr: "paved.yaml: sign"},
		{name: "expiry with a time", yaml: "scan:\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2027-01-31T10:00:00Z}\n", wantErr: "scan.ignore[0].expires"},
		{name: "ignore without reason", yaml: "scan:\n  ignore:\n    - {id: CVE-1, expires: 2027-01-31}\n", wantErr: "scan.ignore[0]"},
		{name: "ignore without expiry", yaml: "scan:\n  ignore:\n    - {id: CVE-1, reason: r}\n", wantErr: "scan.ignore[0].expires"},
		{name: "unknown severity", yaml: "scan:\n  severities: [SEVERE]\n", wantErr: "scan.severities"},
		{name: "unknown ignore field", yaml: "scan:\n  ignore:\n    - {id: CVE-1, because: x}\n", wantErr: "scan.ignore[].because"},
		{name: "unknown top-level field", yaml: "team: a\nteem: b\n", wantErr: "paved.yaml: teem"},
		{name: "unknown nested field", yaml: "test:\n  coverge: 50\n", wantErr: "paved.yaml: test.coverge"},
		{name: "coverage out of range", yaml: "test:\n  coverage: 120\n", wantErr: "test.coverage"},
		{name: "bad platform", yaml: "platforms: [windows]\n", wantErr: "platforms"},
		{name: "unknown golden path", yaml: "path: cobol-batch\n", wantErr: "path"},
		{name: "wrong type", yaml: "platforms: linux/amd64\n", wantErr: "paved.yaml"},
		{name: "two documents", yaml: "team: a\n---\nteam: b\n", wantErr: "more than one"},
		{name: "events sink with credentials", yaml: "events: [\"https://u:p@dora.example.com/v1/events\"]\n", wantErr: "paved.yaml: events"},
		{name: "unknown events sink", yaml: "events: [kafka://broker/topic]\n", wantErr: "paved.yaml: events"},
		{name: "events sinks", yaml: "events: [stdout, \"structured+https://dora.example.com/v1/events\", \"file:events.jsonl\"]\n",
			want: Config{Main: ".", Platforms: DefaultPlatforms, Base: "paved", Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes},
				Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &yes}, Events: []string{"stdout", "structured+https://dora.example.com/v1/events", "file:events.jsonl"}}},
		{name: "binaries and toolchain", yaml: "binaries:\n  - {main: ./cmd/paved, name: paved}\n  - {main: ./cmd/paved-worker}\nentrypoint: paved-worker\ntoolchain: go1.26.8\n",
			want: Config{Main: ".", Binaries: []BinaryConfig{{Main: "./cmd/paved", Name: "paved"}, {Main: "./cmd/paved-worker"}}, Entrypoint: "paved-worker", Toolchain: "go1.26.8",
				Platforms: DefaultPlatforms, Base: "paved", Test: TestConfig{Coverage: cov(80), Packages: []string{"./..."}, Vet: &yes}, Scan: ScanConfig{Severities: []string{"CRITICAL"}, Required: &yes}}},
		{name: "main and binaries", yaml: "main: .\nbinaries:\n  - {main: ./cmd/a}\n", wantErr: "paved.yaml: main"},
		{name: "binary without main", yaml: "binaries:\n  - {name: a}\n", wantErr: "binaries[0].main"},
		{name: "binary name with a slash", yaml: "binaries:\n  - {main: ./cmd/a, name: x/y}\n", wantErr: "binaries[0].name"},
		{name: "two binaries with one name", yaml: "binaries:\n  - {main: ./cmd/a}\n  - {main: ./tools/a}\n", wantErr: "binaries[1].name"},
		{name: "entrypoint not a binary", yaml: "binaries:\n  - {main: ./cmd/a}\nentrypoint: b\n", wantErr: "paved.yaml: entrypoint"},
		{name: "entrypoint without binaries", yaml: "entrypoint: b\n", wantErr: "paved.yaml: entrypoint"},
		{name: "unknown binary field", yaml: "binaries:\n  - {main: ./cmd/a, entry: true}\n", wantErr: "binaries[].entry"},
		{name: "toolchain not a release", yaml: "toolchain: latest\n", wantErr: "paved.yaml: toolchain"},
	}
	for _, tc := range tests {
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
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
		})
	}
}

// TestIgnoreExpiresThroughTheDay: paved.yaml's expiry means what a
// promotion policy's does (modules/promote's TestPolicyIgnoreExpiresThroughTheDay):
// honoured through the end of the named day, UTC.
func TestIgnoreExpiresThroughTheDay(t *testing.T) {
	c, err := ParseConfig([]byte("scan:\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2026-12-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := expiry.Parse(c.Scan.Ignore[0].Expires)
	if err != nil {
		t.Fatal(err)
	}
	if last := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC); !expiry.Honoured(exp, last) {
		t.Errorf("not honoured at %v", last)
	}
	if next := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); expiry.Honoured(exp, next) {
		t.Errorf("still honoured at %v", next)
	}
}

func TestLoadConfigNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	if c, err := LoadConfig(dir); err != nil || c.Base != "paved" {
		t.Fatalf("no paved.yaml: %+v, %v", c, err)
	}
	os.WriteFile(filepath.Join(dir, ConfigFile), []byte("tset: 1\n"), 0o644)
	_, err := LoadConfig(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, ConfigFile)+": tset") {
		t.Fatalf("err = %v, want the file and field named", err)
	}
}

func TestParsePlatforms(t *testing.T) {
	got, err := ParsePlatforms([]string{"linux/amd64,linux/arm/v7", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if d := cmp.Diff([]string{"linux/amd64", "linux/arm/v7", "linux/arm64"}, s); d != "" {
		t.Error(d)
	}
	for _, bad := range []string{"linux", "linux/amd64,linux/amd64", "darwin/arm64", "linux/z80", "linux/arm/v7/x", ""} {
		if _, err := ParsePlatforms([]string{bad}); err == nil {
			t.Errorf("ParsePlatforms(%q) succeeded", bad)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a ConfigError", err)
			}
			return
		}
		if c.Main == "" || len(c.Platforms) == 0 || c.Test.Coverage == nil || *c.Test.Coverage < 0 || *c.Test.Coverage > 100 {
			t.Fatalf("accepted config lacks defaults or is out of range: %+v", c)
		}
	})
}

func FuzzParsePlatform(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			return
		}
		back, err := ParsePlatform(p.String())
		if err != nil || back.String() != p.String() {
			t.Fatalf("%q parsed to %q, which does not parse back: %v", s, p, err)
		}
	})
}
