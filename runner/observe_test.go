package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestDisplayPlainLines(t *testing.T) {
	var buf bytes.Buffer
	d := NewDisplay(&buf)
	var g Graph
	g.Add(&funcStep{name: "test", run: ok("coverage 91.0%")})
	g.Add(&funcStep{name: "build", run: func(context.Context, Inputs) (*Result, error) { return nil, errors.New("compile error") }}, "test")
	g.Add(&funcStep{name: "publish", run: ok("x")}, "build")
	(&Runner{Progress: d}).Run(context.Background(), &g)
	d.Close()
	out := buf.String()
	for _, want := range []string{"paved: test started", "✓ test succeeded", "coverage 91.0%", "✗ build failed", "compile error", "- publish skipped: needs build, which failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("plain output has terminal escapes")
	}
}

func TestDisplayLiveRedraws(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(100, 0)
	d := &Display{w: &buf, live: true, now: func() time.Time { return now }, running: map[string]time.Time{}}
	d.Started("build")
	now = now.Add(1500 * time.Millisecond)
	d.Started("test")
	d.Finished(StepReport{Name: "test", Status: Succeeded, DurationMs: 10})
	out := buf.String()
	if !strings.Contains(out, "build        1.5s") {
		t.Errorf("no live line for the running step:\n%q", out)
	}
	// Finishing test erased the two live lines and printed test's line.
	if !strings.Contains(out, "\x1b[1A\x1b[2K\x1b[1A\x1b[2K✓ test succeeded") {
		t.Errorf("live lines were not redrawn:\n%q", out)
	}
}

// TestTracingExportsOTLP runs a graph with an OTLP/HTTP endpoint set and
// reads the spans a real exporter sends to a collector stand-in that speaks
// the protocol.
func TestTracingExportsOTLP(t *testing.T) {
	var mu sync.Mutex
	var names []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					names = append(names, sp.Name)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	ctx := context.Background()
	tr, err := NewTracing(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tr.Start(ctx, "run go-service")
	var g Graph
	g.Add(&funcStep{name: "test", run: ok("x")})
	g.Add(&funcStep{name: "build", run: ok("y")}, "test")
	if _, err := (&Runner{Tracing: tr}).Run(ctx, &g); err != nil {
		t.Fatal(err)
	}
	span.End()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(names, ",")
	for _, want := range []string{"step test", "step build", "run go-service"} {
		if !strings.Contains(got, want) {
			t.Errorf("exported spans %q lack %q", got, want)
		}
	}
}

func TestTracingOffWithoutEndpoint(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, err := NewTracing(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Start(context.Background(), "x")
	if span.SpanContext().IsValid() {
		t.Fatal("spans are recorded with no endpoint configured")
	}
}

func TestKeyDir(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", "package main")
	write("pkg/a.go", "package pkg")
	write(".paved/out.json", "1")
	skip := func(rel string, _ os.DirEntry) bool { return rel == ".paved" }
	key := func() string {
		k := NewKey()
		if err := k.Dir("src", dir, skip); err != nil {
			t.Fatal(err)
		}
		return k.Sum()
	}
	k1 := key()
	write(".paved/out.json", "2")
	if key() != k1 {
		t.Error("a skipped directory changed the key")
	}
	write("pkg/a.go", "package pkg // changed")
	k2 := key()
	if k2 == k1 {
		t.Error("a changed file kept the key")
	}
	os.Chmod(filepath.Join(dir, "pkg/a.go"), 0o755)
	if key() == k2 {
		t.Error("an executable bit change kept the key")
	}
	if NewKey().String("a", "bc").Sum() == NewKey().String("ab", "c").Sum() {
		t.Error("keys collide by concatenation")
	}
}

func TestLocalContextFromGit(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=@1700000000 +0000", "GIT_COMMITTER_DATE=@1700000000 +0000",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	run("init", "-q", "-b", "trunk")
	run("remote", "add", "origin", "https://user:secret@example.com/team/svc.git")
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	run("add", "f")
	run("commit", "-q", "-m", "first")
	t.Setenv("SOURCE_DATE_EPOCH", "")
	rc, err := Local{}.Context(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Commit) != 40 || rc.Changed.Unix() != 1700000000 || rc.Repo != "https://example.com/team/svc.git" || rc.Ref != "trunk" {
		t.Fatalf("context = %+v", rc)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "42")
	if rc, _ := (Local{}).Context(context.Background(), dir); rc.Changed.Unix() != 42 {
		t.Fatalf("SOURCE_DATE_EPOCH ignored: %v", rc.Changed)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := (Local{}).Context(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Fatalf("bad SOURCE_DATE_EPOCH: %v", err)
	}
}

// Without git's answer (paved's image has no git), the commit and
// repository come from PAVED_COMMIT and PAVED_REPO; git's win.
func TestLocalContextFromEnvironment(t *testing.T) {
	t.Setenv("PAVED_COMMIT", "0123456789abcdef0123456789abcdef01234567")
	t.Setenv("PAVED_REPO", "https://user:secret@example.com/team/svc.git")
	rc, err := Local{}.Context(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rc.Commit != "0123456789abcdef0123456789abcdef01234567" || rc.Repo != "https://example.com/team/svc.git" {
		t.Fatalf("context = %+v", rc)
	}
}

func TestGitHubActionsContext(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
	t.Setenv("GITHUB_SERVER_URL", "https://github.com")
	t.Setenv("GITHUB_REPOSITORY", "team/svc")
	t.Setenv("GITHUB_RUN_ID", "99")
	rc, err := DetectContext(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rc.Environment != "github-actions" || rc.Commit != "0123456789abcdef0123456789abcdef01234567" ||
		rc.Repo != "https://github.com/team/svc" || rc.RunURL != "https://github.com/team/svc/actions/runs/99" {
		t.Fatalf("context = %+v", rc)
	}
}

func TestTektonContext(t *testing.T) {
	root := t.TempDir()
	env := Tekton{Root: root}
	if env.Detect() {
		t.Fatal("detected Tekton with no results directory")
	}
	os.Mkdir(filepath.Join(root, "results"), 0o755)
	t.Setenv("PAVED_COMMIT", "abc")
	rc, err := env.Context(context.Background(), t.TempDir())
	if err != nil || !env.Detect() || rc.Environment != "tekton" || rc.Commit != "abc" || rc.ResultsDir != filepath.Join(root, "results") {
		t.Fatalf("context = %+v, %v", rc, err)
	}
}

func TestReportWriteFile(t *testing.T) {
	r := NewReport("go-service", RunContext{Environment: "local", Dir: "/src"}, time.Unix(0, 0))
	r.Finish(&Outcome{Steps: []StepReport{{Name: "test", Status: Failed, Error: "boom"}}, Err: errors.New("boom")}, time.Unix(2, 0))
	p := filepath.Join(t.TempDir(), "report.json")
	if err := r.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, want := range []string{`"apiVersion": "paved.dev/v1alpha1"`, `"status": "failed"`, `"durationMs": 2000`, `"sbom": []`, `"cached": false`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %s:\n%s", want, b)
		}
	}
	if err := r.WriteFile(filepath.Join(t.TempDir(), "missing", "r.json")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
