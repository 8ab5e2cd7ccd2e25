package hostci

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/runner"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// workspace lays out a checkout with the service in svc/ and a SARIF file
// as the scan step exports it, and returns the workspace and a report of a
// run that failed a test, found a vet problem and a reachable
// vulnerability.
func workspace(t *testing.T) (string, *runner.Report) {
	t.Helper()
	ws := t.TempDir()
	src := filepath.Join(ws, "svc")
	for _, f := range []string{"internal/store/store_test.go", "main.go", "go.mod"} {
		p := filepath.Join(src, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sarif := filepath.Join(src, ".paved", "scan", "scan.sarif")
	os.MkdirAll(filepath.Dir(sarif), 0o755)
	if err := os.WriteFile(sarif, []byte(`{"version":"2.1.0","runs":[
{"tool":{"driver":{"name":"trivy"}},"results":[{"ruleId":"CVE-1","level":"error","message":{"text":"in the image"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"app/server"},"region":{"startLine":1}}}]}]},
{"tool":{"driver":{"name":"govulncheck"}},"results":[
 {"ruleId":"GO-2024-1","level":"warning","message":{"text":"golang.org/x/net v0.1.0: GO-2024-1 (HIGH), fixed in v0.2.0"},
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.go"},"region":{"startLine":12}}}]},
 {"ruleId":"GO-2024-2","level":"error","message":{"text":"ignored"},"suppressions":[{"kind":"external"}],
  "locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.go"},"region":{"startLine":3}}}]}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := &runner.Report{
		Pipeline: "go-service", Service: "svc", RunID: "20261130T000000Z-abcd", Status: runner.Failed, DurationMs: 61234,
		Source: runner.RunContext{Environment: "github-actions", Dir: src, Commit: "0123456789abcdef0123", Ref: "refs/heads/main",
			Repo: "https://github.com/o/r", RunURL: "https://github.com/o/r/actions/runs/42"},
		Steps: []runner.StepReport{
			{Name: "test", Status: runner.Failed, DurationMs: 2100, Error: "1 test failed: example.com/svc/internal/store.TestCreate"},
			{Name: "build", Status: runner.Succeeded, Cached: true, DurationMs: 3, Summary: "sha256:ab12"},
			{Name: "publish", Status: runner.Skipped, Error: "needs test, which failed"},
		},
		Image: &runner.ImageReport{Ref: "ghcr.io/o/r@" + digest, Digest: digest, Platforms: []string{"linux/amd64", "linux/arm64"}},
		Test: &runner.TestReport{Passed: 3, Failed: 1, Coverage: 85, Threshold: 80,
			Failures: []runner.TestFailure{{Package: "example.com/svc/internal/store", Test: "TestCreate, 100%: a|b",
				Output: "    store_test.go:25: got \"goodbye\"\n--- FAIL: TestCreate (0.00s)\n", File: "internal/store/store_test.go", Line: 25}},
			Vet: []string{"main.go:7:2: fmt.Printf format %d has arg s of wrong type string"}},
		Scan:         &runner.ScanReport{Status: "scanned", Counts: map[string]int{"HIGH": 1, "LOW": 2}, Gate: "fail on CRITICAL with a fix available", Passed: true, SARIF: sarif},
		SBOM:         []runner.SBOMReport{{Format: "spdx-json", Digest: "sha256:5b0m"}},
		Attestations: []runner.Attestation{{PredicateType: "https://slsa.dev/provenance/v1", Digest: "sha256:a77e57"}},
	}
	return ws, rep
}

func TestGitHubWrite(t *testing.T) {
	ws, rep := workspace(t)
	out, sum := filepath.Join(t.TempDir(), "output"), filepath.Join(t.TempDir(), "summary")
	// A step before paved's wrote its own output: the files are appended to.
	os.WriteFile(out, []byte("earlier=1\n"), 0o644)
	var log bytes.Buffer
	env := map[string]string{"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": sum, "GITHUB_WORKSPACE": ws}
	h := For(rep.Source, Env{Getenv: func(k string) string { return env[k] }, Log: &log})
	if h == nil {
		t.Fatal("no host for github-actions")
	}
	if err := h.Write(context.Background(), rep, "/w/svc/.paved/report.json"); err != nil {
		t.Fatal(err)
	}

	b, _ := os.ReadFile(out)
	want := "earlier=1\ndigest=" + digest + "\nimage=ghcr.io/o/r@" + digest + "\nreport=/w/svc/.paved/report.json\nstatus=failed\n"
	if d := cmp.Diff(want, string(b)); d != "" {
		t.Errorf("$GITHUB_OUTPUT (-want +got):\n%s", d)
	}

	wantLog := []string{
		"::error title=paved%3A test failed::1 test failed: example.com/svc/internal/store.TestCreate",
		"::error file=svc/internal/store/store_test.go,line=25,title=example.com/svc/internal/store.TestCreate%2C 100%25%3A a|b failed::store_test.go:25: got \"goodbye\"%0A--- FAIL: TestCreate (0.00s)",
		"::error file=svc/main.go,line=7,col=2,title=go vet::fmt.Printf format %25d has arg s of wrong type string",
		"::warning file=svc/main.go,line=12,title=govulncheck GO-2024-1::golang.org/x/net v0.1.0: GO-2024-1 (HIGH), fixed in v0.2.0",
	}
	if d := cmp.Diff(wantLog, strings.Split(strings.TrimSpace(log.String()), "\n")); d != "" {
		t.Errorf("annotations (-want +got):\n%s", d)
	}

	b, _ = os.ReadFile(sum)
	s := string(b)
	for _, want := range []string{
		"## ❌ paved go-service: failed",
		"[run 20261130T000000Z-abcd](https://github.com/o/r/actions/runs/42)",
		"commit <code>0123456789ab</code>",
		"**Image** <code>ghcr.io/o/r@" + digest + "</code> (linux/amd64, linux/arm64)",
		"| test | ❌ failed | 2.1s | miss | 1 test failed: example.com/svc/internal/store.TestCreate |",
		"| build | ✅ succeeded | 3ms | hit | sha256:ab12 |",
		"| publish | ⏭️ skipped | — | — | needs test, which failed |",
		"3 passed, 1 failed, 0 skipped; coverage 85.0% (threshold 80.0%)",
		"<code>example.com/svc/internal/store.TestCreate, 100%: a&#124;b</code> at <code>svc/internal/store/store_test.go:25</code>",
		"| CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN |\n|---|---|---|---|---|\n| 0 | 1 | 0 | 2 | 0 |",
		"| SBOM | spdx-json | <code>sha256:5b0m</code> |",
		"| Attestation | https://slsa.dev/provenance/v1 | <code>sha256:a77e57</code> |",
		"4 finding(s) annotated. Report: <code>/w/svc/.paved/report.json</code>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}

// TestGitHubSummaryEscapes: what a test or a tool printed cannot add HTML,
// links or table cells to the summary.
func TestGitHubSummaryEscapes(t *testing.T) {
	_, rep := workspace(t)
	rep.Steps[0].Error = "<img src=x onerror=alert(1)> | [click](https://evil) `x`\nsecond line"
	g := &GitHub{}
	s := string(g.summary(rep, "r.json", nil))
	for _, bad := range []string{"<img", "[click](", "| [", "second line"} {
		if strings.Contains(s, bad) {
			t.Errorf("summary holds %q:\n%s", bad, s)
		}
	}
	if !strings.Contains(s, "&lt;img src=x onerror=alert\\(1\\)&gt; &#124; \\[click\\]\\(https://evil\\) \\`x\\` |") {
		t.Errorf("the error is not shown escaped:\n%s", s)
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, data, prop string }{
		{"plain", "plain", "plain"},
		{"100%", "100%25", "100%25"},
		{"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
		{"f:1,2", "f:1,2", "f%3A1%2C2"},
		{"%0A", "%250A", "%250A"},
	} {
		if got := EscapeData(tc.in); got != tc.data {
			t.Errorf("EscapeData(%q) = %q, want %q", tc.in, got, tc.data)
		}
		if got := EscapeProperty(tc.in); got != tc.prop {
			t.Errorf("EscapeProperty(%q) = %q, want %q", tc.in, got, tc.prop)
		}
	}
}

// TestFoldStopsCommands: a test's output that prints workflow commands is
// folded with commands off, so the runner shows them instead of obeying.
func TestFoldStopsCommands(t *testing.T) {
	var b bytes.Buffer
	(&GitHub{}).Fold(&b, "--- FAIL: TestX\n::error::x", "::add-mask::secret\n::set-output name=digest::evil\n")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 || lines[0] != "::group::--- FAIL: TestX%0A::error::x" || lines[5] != "::endgroup::" {
		t.Fatalf("fold:\n%s", b.String())
	}
	token, ok := strings.CutPrefix(lines[1], "::stop-commands::")
	if !ok || len(token) < 20 || lines[4] != "::"+token+"::" || strings.Contains(lines[2]+lines[3], token) {
		t.Fatalf("the body is not fenced by stop-commands:\n%s", b.String())
	}
}

func TestGitHubOutputsMultiline(t *testing.T) {
	var b strings.Builder
	writeOutput(&b, "report", "a\nb")
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "report<<paved_") || lines[1] != "a" || lines[2] != "b" || lines[3] != lines[0][len("report<<"):] {
		t.Fatalf("heredoc output:\n%s", b.String())
	}
}

// TestGitHubWriteFailsClosed: an output file that cannot be written fails
// the write, since the job's next steps would read nothing.
func TestGitHubWriteFailsClosed(t *testing.T) {
	_, rep := workspace(t)
	g := &GitHub{Output: filepath.Join(t.TempDir(), "missing", "output"), Log: &bytes.Buffer{}}
	if err := g.Write(context.Background(), rep, "r.json"); err == nil || !strings.Contains(err.Error(), "output") {
		t.Fatalf("Write = %v, want an error naming the output file", err)
	}
}

// FuzzAnnotation: whatever a finding says, it is one workflow command on
// one line that names the level it was given.
func FuzzAnnotation(f *testing.F) {
	f.Add("TestX, 100%: a", "got\r\nwant %0A", "a/b.go")
	f.Add("::error::", "::add-mask::x\n", "x,y:z.go")
	f.Fuzz(func(t *testing.T, title, msg, file string) {
		var log bytes.Buffer
		g := &GitHub{Log: &log}
		g.annotate(&runner.Report{}, []Finding{{Level: Warning, Title: title, Message: msg, File: file, Line: 3}})
		out := log.String()
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || !strings.HasPrefix(out, "::warning") || strings.ContainsRune(out[:len(out)-1], '\r') {
			t.Fatalf("annotation %q", out)
		}
		head, _, ok := strings.Cut(out[len("::warning"):], "::")
		if !ok || strings.Count(head, ",") > 2 {
			t.Fatalf("properties %q", head)
		}
	})
}

// TestStepsFoldOnActions: on Actions, the runner's plain progress folds
// each finished step's details, its whole error included, under its line.
func TestStepsFoldOnActions(t *testing.T) {
	var b bytes.Buffer
	d := runner.NewDisplay(&b)
	d.FoldSteps(&GitHub{})
	d.Started("test")
	d.Finished(runner.StepReport{Name: "test", Status: runner.Failed, DurationMs: 1500, Needs: []string{"source"}, Error: "2 tests failed:\n::error::not a command"})
	d.Close()
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 9 || lines[0] != "paved: test started" || lines[1] != "::group::paved: ✗ test failed in 1.5s" ||
		lines[3] != "needs: source" || lines[5] != "error: 2 tests failed:" || lines[6] != "::error::not a command" || lines[8] != "::endgroup::" ||
		!strings.HasPrefix(lines[2], "::stop-commands::") {
		t.Fatalf("folded progress:\n%s", b.String())
	}
}
