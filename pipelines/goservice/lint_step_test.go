package goservice

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// identified is an executor that only names itself: the key is under test,
// and computing it must not start a worker.
type identified struct {
	protocol.Executor
	id string
}

func (x identified) Identity(context.Context) (string, error) { return x.id, nil }

func TestLintKey(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/x\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	base := LintConfig{Dir: dir, Gosec: protocol.LintToolConfig{Ignore: []protocol.LintException{{Rule: "G404", Reason: "r", Expires: day("2026-06-01")}}}}
	key := func(cfg LintConfig, id string, now string) string {
		t.Helper()
		s := &lintStep{cfg: cfg, exec: identified{id: id}, now: func() time.Time { return day(now).Add(12 * time.Hour) }}
		k, err := s.Key(context.Background(), runner.Inputs{})
		if err != nil || k == "" {
			t.Fatalf("key %q, %v", k, err)
		}
		return k
	}
	k0 := key(base, "w1", "2026-05-01")
	if key(base, "w1", "2026-06-01") != k0 {
		t.Error("the key changed while every exception still holds")
	}
	if key(base, "w1", "2026-06-02") == k0 {
		t.Error("the key did not change when an exception lapsed: a cached pass would outlive it")
	}
	if key(base, "w2", "2026-05-01") == k0 {
		t.Error("the key does not follow the tools' versions (the executor's identity)")
	}
	warn := base
	warn.Staticcheck.Warn = true
	if key(warn, "w1", "2026-05-01") == k0 {
		t.Error("the key does not follow the settings")
	}
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println() }\n"), 0o644)
	if key(base, "w1", "2026-05-01") == k0 {
		t.Error("the key does not follow the source")
	}
	os.WriteFile(filepath.Join(dir, "go.sum"), []byte("example.com/y v1.0.0 h1:x=\n"), 0o644)
	k1 := key(base, "w1", "2026-05-01")
	os.WriteFile(filepath.Join(dir, "go.sum"), []byte("example.com/y v1.0.1 h1:x=\n"), 0o644)
	if key(base, "w1", "2026-05-01") == k1 {
		t.Error("the key does not follow go.sum")
	}
}

func TestLintConfigFromSettings(t *testing.T) {
	cfg, err := pipelines.ParseConfig([]byte("lint:\n  mode: warn\n  checks: [SA*]\nsast:\n  enabled: false\n  severity: medium\n" +
		"  ignore:\n    - {rule: G404, path: main.go, reason: r, expires: 2027-01-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &pipelines.Run{Config: cfg, Context: runner.RunContext{Dir: "/src"}}
	lc, err := lintConfig(r, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, g := lc.Staticcheck, lc.Gosec
	if lc.Dir != "/src" || s.Disabled || !s.Warn || len(s.Checks) != 1 || !g.Disabled || g.Severity != "MEDIUM" || g.Warn ||
		len(g.Ignore) != 1 || g.Ignore[0].Path != "main.go" || g.Ignore[0].Expires.Format(time.DateOnly) != "2027-01-31" {
		t.Errorf("%+v", lc)
	}
	// The flags win over paved.yaml's enabled, either way.
	yes, no := true, false
	lc, _ = lintConfig(r, pipelines.Options{Lint: &no, SAST: &yes})
	if !lc.Staticcheck.Disabled || lc.Gosec.Disabled {
		t.Errorf("flags: %+v", lc)
	}
	// No settings: both on, failing on every finding.
	empty, _ := pipelines.ParseConfig(nil)
	lc, _ = lintConfig(&pipelines.Run{Config: empty}, pipelines.Options{})
	if lc.Staticcheck.Disabled || lc.Gosec.Disabled || lc.Staticcheck.Warn || lc.Gosec.Warn || lc.Gosec.Severity != "" {
		t.Errorf("defaults: %+v", lc)
	}
}
