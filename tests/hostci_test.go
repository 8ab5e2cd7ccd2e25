package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/commands"
	_ "github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// actions is what a GitHub-hosted runner gives a step: the variables it
// sets and the files it reads back afterwards, with the checkout in ws.
type actions struct {
	env             []string
	output, summary string
}

func simulateActions(t *testing.T, ws string) actions {
	t.Helper()
	dir := t.TempDir()
	a := actions{output: filepath.Join(dir, "output"), summary: filepath.Join(dir, "summary")}
	for _, f := range []string{a.output, a.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a.env = []string{
		"GITHUB_ACTIONS=true", "CI=true", "GITHUB_OUTPUT=" + a.output, "GITHUB_STEP_SUMMARY=" + a.summary,
		"GITHUB_WORKSPACE=" + ws, "GITHUB_SHA=4b825dc642cb6eb9a060e54bf8d69288fbee4904", "GITHUB_REF=refs/heads/main",
		"GITHUB_REPOSITORY=pavedhq/go-service", "GITHUB_SERVER_URL=https://github.com", "GITHUB_RUN_ID=1234567890",
		"GITHUB_RUN_ATTEMPT=1", "GITHUB_JOB=paved", "GITHUB_EVENT_NAME=push", "GITHUB_ACTOR=octocat",
		"RUNNER_OS=Linux", "RUNNER_TEMP=" + t.TempDir(),
	}
	return a
}

// outputs reads $GITHUB_OUTPUT's name=value lines.
func (a actions) outputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(a.output)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("$GITHUB_OUTPUT line %q", l)
		}
		out[k] = v
	}
	return out
}

func (a actions) summaryText(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(a.summary)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGitHubActions is the GitHub Actions front door's acceptance: paved run
// under the variables and files a runner provides writes the step's
// outputs, a summary of the run and folded step logs; a run with a failing
// test, a vet problem and a reachable vulnerability annotates each at its
// file and line.
func TestGitHubActions(t *testing.T) {
	reg := registry(t)
	const password = "actions-Kq7-pass"
	key := cosignKey(t, password)

	t.Run("succeeds", func(t *testing.T) {
		ws := t.TempDir()
		src := copyExampleTo(t, ws)
		gh := simulateActions(t, ws)
		cache := t.TempDir()
		r := paved(t, append(gh.env, "COSIGN_PASSWORD="+password), "run", "go-service", "--source", src,
			"--image", reg+"/pavedhq/go-service", "--key", key, "--cache-dir", cache)
		if r.code != 0 {
			t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
		}
		reportPath := filepath.Join(src, ".paved", "report.json")
		rep := readReport(t, reportPath)
		if rep.Source.Environment != "github-actions" || rep.Source.Commit != "4b825dc642cb6eb9a060e54bf8d69288fbee4904" {
			t.Fatalf("the run did not see GitHub Actions: %+v", rep.Source)
		}
		out := gh.outputs(t)
		want := map[string]string{"digest": rep.Image.Digest, "image": rep.Image.Ref, "report": reportPath, "status": "succeeded"}
		for k, v := range want {
			if out[k] != v {
				t.Errorf("output %s = %q, want %q", k, out[k], v)
			}
		}
		if out["image"] != r.lastLine() {
			t.Errorf("output image %q is not the printed reference %q", out["image"], r.lastLine())
		}

		s := gh.summaryText(t)
		wantSummary := []string{
			"## ✅ paved go-service: succeeded",
			"(https://github.com/pavedhq/go-service/actions/runs/1234567890)",
			"**Image** <code>" + rep.Image.Ref + "</code>",
			"| CRITICAL | HIGH | MEDIUM | LOW | UNKNOWN |",
		}
		for _, st := range rep.Steps {
			wantSummary = append(wantSummary, fmt.Sprintf("| %s | ✅ succeeded |", st.Name))
		}
		for _, sb := range rep.SBOM {
			wantSummary = append(wantSummary, "<code>"+sb.Digest+"</code>")
		}
		for _, at := range rep.Attestations {
			wantSummary = append(wantSummary, "| Attestation | "+at.PredicateType+" | <code>"+at.Digest+"</code> |")
		}
		if len(rep.SBOM) == 0 || len(rep.Attestations) == 0 {
			t.Fatalf("the run made %d SBOMs and %d attestations; the summary test needs both", len(rep.SBOM), len(rep.Attestations))
		}
		for _, w := range wantSummary {
			if !strings.Contains(s, w) {
				t.Errorf("summary lacks %q", w)
			}
		}
		if t.Failed() {
			t.Logf("summary:\n%s", s)
		}
		// Each finished step is a folded group in the log.
		for _, st := range rep.Steps {
			if !strings.Contains(r.stderr, "::group::paved: ✓ "+st.Name+" succeeded") {
				t.Errorf("no log group for step %s:\n%s", st.Name, r.stderr)
			}
		}
		if strings.Count(r.stderr, "::group::") != strings.Count(r.stderr, "::endgroup::") {
			t.Errorf("unbalanced groups:\n%s", r.stderr)
		}
		if strings.Contains(r.stderr, "::error") {
			t.Errorf("annotations on a clean run:\n%s", r.stderr)
		}
		for where, b := range map[string]string{"outputs": fmt.Sprint(out), "summary": s, "log": r.stderr + r.stdout} {
			if strings.Contains(b, password) {
				t.Errorf("the key's password appears in the %s", where)
			}
		}

		// A re-run is served from the step cache, and the summary says so.
		gh2 := simulateActions(t, ws)
		r2 := paved(t, append(gh2.env, "COSIGN_PASSWORD="+password), "run", "go-service", "--source", src,
			"--image", reg+"/pavedhq/go-service", "--key", key, "--cache-dir", cache)
		if r2.code != 0 {
			t.Fatalf("re-run exited %d\n%s", r2.code, r2.stderr)
		}
		if s2 := gh2.summaryText(t); !regexp.MustCompile(`\| test \| ✅ succeeded \| [^|]+ \| hit \|`).MatchString(s2) {
			t.Errorf("the re-run's summary shows no cache hit for test:\n%s", s2)
		}
	})

	t.Run("annotates failures", func(t *testing.T) {
		ws := t.TempDir()
		src := copyExampleTo(t, ws)
		replaceInFile(t, filepath.Join(src, "internal/store/store_test.go"),
			`if n.ID == "" || n.Text != "hello"`, `if n.ID == "" || n.Text != "goodbye"`)
		// unusedresult is not among the checks go test runs itself, so the
		// tests still build and vet alone reports it.
		if err := os.WriteFile(filepath.Join(src, "internal/store/vet.go"), []byte("package store\n\nimport \"fmt\"\n\nfunc label(n Note) {\n\tfmt.Sprintf(\"note %s\", n.ID)\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		gh := simulateActions(t, ws)
		r := paved(t, gh.env, "run", "go-service", "--source", src, "--vuln-db", vulnDB(t, true), "--cache-dir", t.TempDir())
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
		}
		out := gh.outputs(t)
		if out["status"] != "failed" || out["digest"] != "" || out["image"] != "" || out["report"] != filepath.Join(src, ".paved", "report.json") {
			t.Errorf("outputs of a failed run: %v", out)
		}
		rep := readReport(t, out["report"])
		if rep.Status != runner.Failed {
			t.Fatalf("report status %s", rep.Status)
		}

		annotations := regexp.MustCompile(`(?m)^::error (file=[^,]*,line=\d+(?:,col=\d+)?,)?title=([^:]*)::(.*)$`).FindAllStringSubmatch(r.stderr, -1)
		found := map[string]string{}
		for _, a := range annotations {
			found[a[2]] = a[1]
		}
		for title, where := range map[string]string{
			"github.com/pavedhq/paved/examples/go-service/internal/store.TestCreateGetDelete failed": "file=go-service/internal/store/store_test.go,line=15,",
			"go vet": "file=go-service/internal/store/vet.go,line=6,col=2,",
		} {
			if got, ok := found[title]; !ok || got != where {
				t.Errorf("annotation %q at %q, want %q; annotations:\n%s", title, got, where, grepLines(r.stderr, "::error"))
			}
		}
		vuln := regexp.MustCompile(`(?m)^::(?:error|warning) file=go-service/internal/store/store\.go,line=37,title=govulncheck GO-2099-4242::`)
		if !vuln.MatchString(r.stderr) {
			t.Errorf("no annotation at the vulnerable call (store.go:37):\n%s", grepLines(r.stderr, "::"))
		}
		if !strings.Contains(r.stderr, "::group::--- FAIL: github.com/pavedhq/paved/examples/go-service/internal/store.TestCreateGetDelete") {
			t.Errorf("the failed test's output is not folded:\n%s", r.stderr)
		}
		s := gh.summaryText(t)
		for _, w := range []string{"## ❌ paved go-service: failed", "| test | ❌ failed |",
			"<code>github.com/pavedhq/paved/examples/go-service/internal/store.TestCreateGetDelete</code> at <code>go-service/internal/store/store_test.go:15</code>",
			"| publish | ⏭️ skipped |"} {
			if !strings.Contains(s, w) {
				t.Errorf("summary lacks %q:\n%s", w, s)
			}
		}
	})
}

// copyExampleTo copies examples/go-service into the workspace ws, as a
// checkout of a repository whose service is in go-service/.
func copyExampleTo(t *testing.T, ws string) string {
	t.Helper()
	src := copyExample(t)
	dst := filepath.Join(ws, "go-service")
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTektonTaskRun is the Tekton results' acceptance: paved build in a
// step laid out as Tekton lays it out (its results directory under the
// root, here a temporary one instead of /tekton) writes IMAGE_URL and
// IMAGE_DIGEST equal to the run report's. It runs the CLI in-process, the
// one way to point the runner at another root; build needs no worker.
func TestTektonTaskRun(t *testing.T) {
	reg := registry(t)
	root := t.TempDir()
	results := filepath.Join(root, "results")
	if err := os.Mkdir(results, 0o755); err != nil {
		t.Fatal(err)
	}
	saved := runner.Environments
	runner.Environments = []runner.Environment{runner.Tekton{Root: root}, runner.Local{}}
	t.Cleanup(func() { runner.Environments = saved })
	t.Setenv("GOEXPERIMENT", "") // for building paved, not the service

	src := copyExample(t)
	var stdout, stderr bytes.Buffer
	c := commands.New("test", &stdout, &stderr)
	c.SetArgs([]string{"build", "--source", src, "--image", reg + "/tekton/go-service", "--cache-dir", t.TempDir()})
	if err := c.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("paved build: %v\n%s", err, stderr.String())
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Source.Environment != "tekton" || rep.Image == nil {
		t.Fatalf("report: environment %q, image %+v", rep.Source.Environment, rep.Image)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(results, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read("IMAGE_URL"), reg+"/tekton/go-service"; got != want || got+"@"+rep.Image.Digest != rep.Image.Ref {
		t.Errorf("IMAGE_URL %q, want %q (the report's %s)", got, want, rep.Image.Ref)
	}
	if got := read("IMAGE_DIGEST"); got != rep.Image.Digest {
		t.Errorf("IMAGE_DIGEST %q, want the report's %q", got, rep.Image.Digest)
	}
	if got := read("REPORT"); !strings.Contains(got, `"status":"succeeded"`) || !strings.Contains(got, rep.RunID) {
		t.Errorf("REPORT %s", got)
	}
	if strings.TrimSpace(stdout.String()) != rep.Image.Ref {
		t.Errorf("stdout %q, want the reference alone", stdout.String())
	}
}
