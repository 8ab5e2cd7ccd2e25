package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RunContext is what a run knows about its source and its host.
type RunContext struct {
	// Environment is where the run happens: local, github-actions, tekton.
	Environment string `json:"environment"`
	Dir         string `json:"dir"`
	Commit      string `json:"commit,omitempty"`
	Repo        string `json:"repo,omitempty"`
	Ref         string `json:"ref,omitempty"`
	RunURL      string `json:"runUrl,omitempty"`
	// Changed is when the source last changed: SOURCE_DATE_EPOCH when set,
	// else the commit time. Reproducible builds stamp it on every file, so
	// the same commit gives one digest wherever it is built.
	Changed time.Time `json:"changed"`
	// ResultsDir is where the host collects step results (Tekton).
	ResultsDir string `json:"-"`
}

// Environment is a kind of host a run can happen on.
type Environment interface {
	// Name is the value of RunContext.Environment.
	Name() string
	// Detect reports whether the process runs here.
	Detect() bool
	// Context describes the source in dir as this host sees it.
	Context(ctx context.Context, dir string) (RunContext, error)
}

// Environments lists the hosts paved knows, most specific first; Local
// matches everywhere.
var Environments = []Environment{GitHubActions{}, Tekton{Root: "/tekton"}, Local{}}

// DetectContext fills the run context from the first environment that
// matches.
func DetectContext(ctx context.Context, dir string) (RunContext, error) {
	rc, err := detectContext(ctx, dir)
	// The repository goes into annotations, the report and provenance: a
	// remote such as https://user:token@host/repo must not take its token.
	rc.Repo, rc.RunURL = RedactURL(rc.Repo), RedactURL(rc.RunURL)
	return rc, err
}

func detectContext(ctx context.Context, dir string) (RunContext, error) {
	for _, e := range Environments {
		if e.Detect() {
			return e.Context(ctx, dir)
		}
	}
	return Local{}.Context(ctx, dir)
}

// Local is a developer's machine or any host that is not recognised: the
// context comes from git.
type Local struct{}

func (Local) Name() string { return "local" }
func (Local) Detect() bool { return true }

func (Local) Context(ctx context.Context, dir string) (RunContext, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return RunContext{}, err
	}
	rc := RunContext{Environment: "local", Dir: abs}
	// Two small git calls side by side: a warm run's whole budget is a few
	// tens of milliseconds. %D names the refs at HEAD ("HEAD -> main, ...").
	var head, remote string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); head = git(ctx, abs, "log", "-1", "--format=%H %ct %D") }()
	go func() { defer wg.Done(); remote = git(ctx, abs, "config", "--get", "remote.origin.url") }()
	wg.Wait()
	rc.Repo = RedactURL(remote)
	if f := strings.Fields(head); len(f) >= 2 {
		rc.Commit = f[0]
		if sec, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			rc.Changed = time.Unix(sec, 0).UTC()
		}
		rc.Ref = "HEAD" // detached
		if len(f) >= 5 && f[2] == "HEAD" && f[3] == "->" {
			rc.Ref = strings.TrimSuffix(f[4], ",")
		}
	}
	// Where git has no answer (no .git, or no git: paved's own image has
	// none), the host may say which commit and repository the files are.
	if rc.Commit == "" {
		rc.Commit = os.Getenv("PAVED_COMMIT")
	}
	if rc.Repo == "" {
		rc.Repo = RedactURL(os.Getenv("PAVED_REPO"))
	}
	epoch, ok, err := sourceDateEpoch()
	if err != nil {
		return rc, err
	}
	if ok {
		rc.Changed = epoch
	}
	return rc, nil
}

// GitHubActions reads the run's context from the variables the runner sets.
type GitHubActions struct{}

func (GitHubActions) Name() string { return "github-actions" }
func (GitHubActions) Detect() bool { return os.Getenv("GITHUB_ACTIONS") == "true" }

func (GitHubActions) Context(ctx context.Context, dir string) (RunContext, error) {
	rc, err := Local{}.Context(ctx, dir)
	if err != nil {
		return rc, err
	}
	rc.Environment = "github-actions"
	if v := os.Getenv("GITHUB_SHA"); v != "" {
		rc.Commit = v
	}
	if v := os.Getenv("GITHUB_REF"); v != "" {
		rc.Ref = v
	}
	server := os.Getenv("GITHUB_SERVER_URL")
	if repo := os.Getenv("GITHUB_REPOSITORY"); repo != "" && server != "" {
		rc.Repo = server + "/" + repo
		if id := os.Getenv("GITHUB_RUN_ID"); id != "" {
			rc.RunURL = rc.Repo + "/actions/runs/" + id
		}
	}
	return rc, nil
}

// Tekton is a TaskRun step: Tekton mounts its results directory under Root.
// Tekton sets no variables of its own, so the Task passes the commit and
// repository as PAVED_COMMIT and PAVED_REPO when the workspace has no .git.
type Tekton struct{ Root string }

func (Tekton) Name() string { return "tekton" }
func (t Tekton) Detect() bool {
	_, err := os.Stat(filepath.Join(t.Root, "results"))
	return err == nil
}

func (t Tekton) Context(ctx context.Context, dir string) (RunContext, error) {
	rc, err := Local{}.Context(ctx, dir)
	if err != nil {
		return rc, err
	}
	rc.Environment = "tekton"
	rc.ResultsDir = filepath.Join(t.Root, "results")
	if v := os.Getenv("PAVED_COMMIT"); v != "" {
		rc.Commit = v
	}
	if v := os.Getenv("PAVED_REPO"); v != "" {
		rc.Repo = v
	}
	return rc, nil
}

func sourceDateEpoch() (time.Time, bool, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Time{}, false, nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, false, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds since 1970", v)
	}
	return time.Unix(sec, 0).UTC(), true, nil
}

// git runs a read-only git command; outside a repository it returns "".
func git(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return ""
	}
	return strings.TrimSpace(out.String())
}
