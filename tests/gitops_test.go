package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.test"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// fakeGitHub stands in for GitHub's REST API, which cannot be reached
// here: it checks each call the way GitHub would (method, path, token,
// headers, body) and answers as GitHub does, including 422 for a second
// pull request from the same branch.
type fakeGitHub struct {
	t     *testing.T
	token string
	mu    sync.Mutex
	prs   map[string]int // head → number
	calls []string
}

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, r.Method+" "+r.URL.Path)
	if r.Header.Get("Authorization") != "Bearer "+g.token || r.Header.Get("X-GitHub-Api-Version") == "" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/repos/acme/deploy/pulls":
		var body struct{ Title, Head, Base, Body string }
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.Head == "" || body.Base != "main" || !strings.Contains(body.Title, "promote") {
			g.t.Errorf("pull request body %s", b)
			http.Error(w, `{"message":"Validation Failed"}`, http.StatusUnprocessableEntity)
			return
		}
		if _, ok := g.prs[body.Head]; ok {
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for acme:`+body.Head+`."}]}`)
			return
		}
		g.prs[body.Head] = 40 + len(g.prs)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"number": g.prs[body.Head], "html_url": "https://github.com/acme/deploy/pull/1"})
	case r.Method == http.MethodGet && r.URL.Path == "/repos/acme/deploy/pulls":
		head := strings.TrimPrefix(r.URL.Query().Get("head"), "acme:")
		var list []map[string]any
		if n, ok := g.prs[head]; ok {
			list = append(list, map[string]any{"number": n, "html_url": "https://github.com/acme/deploy/pull/1"})
		}
		json.NewEncoder(w).Encode(list)
	default:
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	}
}

// TestPromotionGitOps promotes into a kustomize overlay: a one-line diff
// on a branch, a pull request, nothing new the second time, and, once
// merged, a deployment of the next build that lists every commit since.
func TestPromotionGitOps(t *testing.T) {
	reg := registry(t) // first: where it is missing, the test ends before building cosign
	cosign := testtools.Cosign(t, testtools.CosignV3)
	key, pub := keyPair(t, cosign, keyPassword)
	signEnv := []string{"COSIGN_PASSWORD=" + keyPassword}
	cache := t.TempDir()

	src := copyExample(t)
	first := gitInit(t, src)
	run := func() string {
		t.Helper()
		r := paved(t, signEnv, "run", "go-service", "--source", src, "--image", reg+"/staging/svc", "--key", key, "--cache-dir", cache)
		if r.code != 0 {
			t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
		}
		return r.lastLine()
	}
	imageA := run()

	deploy := t.TempDir()
	overlay := "overlays/production/kustomization.yaml"
	os.MkdirAll(filepath.Join(deploy, "overlays/production"), 0o755)
	os.WriteFile(filepath.Join(deploy, overlay), []byte(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: go-service          # the name the base manifests use
    newName: `+reg+`/prod/svc
    newTag: "0.9.0"
  - name: redis
    newTag: "7.2"
`), 0o644)
	git(t, deploy, "init", "-q", "-b", "main")
	git(t, deploy, "add", ".")
	git(t, deploy, "commit", "-q", "-m", "production overlay")
	mainBefore := git(t, deploy, "rev-parse", "main")

	gh := &fakeGitHub{t: t, token: "ghp-Zq81-never-printed", prs: map[string]int{}}
	api := httptest.NewServer(gh)
	defer api.Close()
	deployments := filepath.Join(t.TempDir(), "deployments.jsonl")
	promoteArgs := func(from string) []string {
		return []string{"promote", "--from", from, "--to", reg + "/prod/svc", "--key", pub, "--vuln-db", demoDB,
			"--gitops", deploy, "--overlay", overlay, "--source", src, "--github-repo", "acme/deploy", "--github-api", api.URL,
			"--deployments", deployments, "--report", filepath.Join(t.TempDir(), "report.json")}
	}
	tokenEnv := []string{"GITHUB_TOKEN=" + gh.token}

	r := paved(t, tokenEnv, promoteArgs(imageA)...)
	if r.code != 0 {
		t.Fatalf("promote exited %d\n%s", r.code, r.stderr)
	}
	digestA := imageA[strings.Index(imageA, "@")+1:]
	// The service is the one paved.yaml in --source names, as in its runs' events.
	branch := "paved/promote-go-service-" + strings.TrimPrefix(digestA, "sha256:")[:12]
	tip := git(t, deploy, "rev-parse", branch)
	if numstat := git(t, deploy, "diff", "--numstat", "main", branch); numstat != "1\t1\t"+overlay {
		t.Fatalf("the bump is not a one-line diff: %q\n%s", numstat, git(t, deploy, "diff", "main", branch))
	}
	if diff := git(t, deploy, "diff", "-U0", "main", branch); !strings.Contains(diff, "+    digest: ") || !strings.Contains(diff, digestA) || !strings.Contains(diff, `-    newTag: "0.9.0"`) {
		t.Errorf("diff:\n%s", diff)
	}
	if msg := git(t, deploy, "log", "-1", "--format=%B", branch); !strings.Contains(msg, first[:12]) || !strings.Contains(msg, digestA) {
		t.Errorf("commit message does not name the source commit and the digest:\n%s", msg)
	}
	if git(t, deploy, "rev-parse", "main") != mainBefore || git(t, deploy, "status", "--porcelain") != "" {
		t.Error("the checkout's branch or files changed")
	}
	if !strings.Contains(r.stderr, "pull request #40") || strings.Contains(r.stderr+r.stdout, gh.token) {
		t.Errorf("output:\n%s", r.stderr)
	}

	// The same promotion again: no new commit, the same pull request.
	r = paved(t, tokenEnv, promoteArgs(imageA)...)
	if r.code != 0 {
		t.Fatalf("second promote exited %d\n%s", r.code, r.stderr)
	}
	if git(t, deploy, "rev-parse", branch) != tip || git(t, deploy, "rev-list", "--count", branch) != "2" {
		t.Error("a second run made another commit")
	}
	if !strings.Contains(r.stderr, "already pins") || !strings.Contains(r.stderr, "pull request #40") {
		t.Errorf("second run output:\n%s", r.stderr)
	}

	// The pull request is merged; two more commits are built and promoted
	// as one deployment, which must carry both.
	git(t, deploy, "merge", "-q", "--ff-only", branch)
	replaceInFile(t, filepath.Join(src, "main.go"), `// version is set at build time`, `// version (2) is set at build time`)
	git(t, src, "commit", "-q", "-am", "second")
	second := git(t, src, "rev-parse", "HEAD")
	replaceInFile(t, filepath.Join(src, "main.go"), `// version (2) is set at build time`, `// version (3) is set at build time`)
	git(t, src, "commit", "-q", "-am", "third")
	third := git(t, src, "rev-parse", "HEAD")
	imageB := run()
	r = paved(t, tokenEnv, promoteArgs(imageB)...)
	if r.code != 0 {
		t.Fatalf("promote of the next build exited %d\n%s", r.code, r.stderr)
	}
	if diff := git(t, deploy, "diff", "--numstat", "main", "paved/promote-go-service-"+strings.TrimPrefix(imageB[strings.Index(imageB, "@")+1:], "sha256:")[:12]); diff != "1\t1\t"+overlay {
		t.Errorf("second bump: %q", diff)
	}

	recs := readDeployments(t, deployments)
	if len(recs) != 3 {
		t.Fatalf("%d deployment records, want 3", len(recs))
	}
	last := recs[2]
	if last.Service != "go-service" {
		t.Errorf("deployment of service %q, want paved.yaml's go-service", last.Service)
	}
	if last.PreviousDigest != digestA || last.PreviousCommit != first || last.Commit != third ||
		len(last.Commits) != 2 || last.Commits[0].SHA != third || last.Commits[1].SHA != second || last.Commits[0].Time.IsZero() || last.Commits[0].Author == "" {
		t.Errorf("deployment of the next build: %+v (commits want %s,%s)", last, third, second)
	}
}
