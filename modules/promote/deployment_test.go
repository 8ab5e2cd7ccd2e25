package promote

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestCommitsCarryAuthorAndTime lists the commits a deployment brings from
// a real checkout, each with its author and commit time, which lead time
// is measured from; one commit alone is read the same way.
func TestCommitsCarryAuthorAndTime(t *testing.T) {
	dir := t.TempDir()
	git := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_COMMITTER_NAME=ci", "GIT_COMMITTER_EMAIL=ci@example.com"), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(nil, "init", "-q", "-b", "main")
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var want []Commit
	for i, who := range []string{"Ada", "Grace", "Linus"} {
		at := base.Add(time.Duration(i) * time.Hour)
		env := []string{"GIT_AUTHOR_NAME=" + who, "GIT_AUTHOR_EMAIL=" + strings.ToLower(who) + "@example.com",
			"GIT_AUTHOR_DATE=" + at.Add(-24*time.Hour).Format(time.RFC3339), "GIT_COMMITTER_DATE=" + at.Format(time.RFC3339)}
		git(env, "commit", "-q", "--allow-empty", "-m", who)
		want = append([]Commit{{SHA: git(nil, "rev-parse", "HEAD"), Author: who + " <" + strings.ToLower(who) + "@example.com>", Time: at}}, want...)
	}
	got, err := commitsBetween(context.Background(), dir, want[2].SHA, want[0].SHA)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:2], got); diff != "" {
		t.Errorf("commits (-want +got):\n%s", diff)
	}
	one, err := commitInfo(context.Background(), dir, want[2].SHA)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2], one); diff != "" {
		t.Errorf("one commit (-want +got):\n%s", diff)
	}
	if _, err := commitInfo(context.Background(), dir, "HEAD~1"); err == nil {
		t.Error("a revision expression reached git")
	}
}
