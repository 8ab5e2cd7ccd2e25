package promote

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestPreviousRevisionIsAnObjectName bumps an overlay whose previous image
// carries a revision annotation that is not a full commit hash (an option,
// a revision expression, a short hash): the deployment is recorded
// without the commit list and with a warning, and git never sees it.
func TestPreviousRevisionIsAnObjectName(t *testing.T) {
	host := newRegistry(t, true)
	src := t.TempDir()
	gitIn(t, src, "init", "-q", "-b", "main")
	var commits []string
	for _, m := range []string{"one", "two", "three"} {
		gitIn(t, src, "commit", "-q", "--allow-empty", "-m", m)
		commits = append(commits, gitIn(t, src, "rev-parse", "HEAD"))
	}
	out := t.TempDir()

	for _, tc := range []struct {
		name, annotation string
		want             []string // the commits recorded; nil: none, with a warning
	}{
		{"full hash", commits[0], []string{commits[2], commits[1]}},
		{"option", "--output=" + filepath.Join(out, "x"), nil},
		{"revision expression", "HEAD~2", nil},
		{"short hash", commits[0][:12], nil},
		{"uppercase", strings.ToUpper(commits[0]), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo, _ := name.NewRepository(host + "/prod/api")
			old, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			old = mutate.Annotations(old, map[string]string{RevisionAnnotation: tc.annotation}).(v1.Image)
			od, _ := old.Digest()
			if err := remote.Write(repo.Digest(od.String()), old); err != nil {
				t.Fatal(err)
			}
			deploy := t.TempDir()
			gitIn(t, deploy, "init", "-q", "-b", "main")
			overlay := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n  - name: " + repo.String() + "\n    digest: " + od.String() + "\n"
			if err := os.WriteFile(filepath.Join(deploy, "kustomization.yaml"), []byte(overlay), 0o644); err != nil {
				t.Fatal(err)
			}
			gitIn(t, deploy, "add", "kustomization.yaml")
			gitIn(t, deploy, "commit", "-q", "-m", "deploy")

			dep := &Deployment{Commit: commits[2]}
			target := repo.Digest("sha256:" + strings.Repeat("ab", 32))
			g := &GitOps{Dir: deploy, Overlay: "kustomization.yaml", SourceDir: src}
			res, err := g.bump(context.Background(), target, nil, dep, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range dep.Commits {
				got = append(got, c.SHA)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("commits %v, want %v", dep.Commits, tc.want)
			}
			if tc.want == nil {
				if dep.PreviousCommit != "" {
					t.Errorf("previous commit %q recorded", dep.PreviousCommit)
				}
				if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "not a full commit hash") {
					t.Errorf("warnings %q, want one saying the annotation is not a full commit hash", res.Warnings)
				}
			} else if dep.PreviousCommit != tc.annotation || len(res.Warnings) != 0 {
				t.Errorf("previous commit %q, warnings %q", dep.PreviousCommit, res.Warnings)
			}
			if files, _ := os.ReadDir(out); len(files) != 0 {
				t.Errorf("git took the annotation as an option and wrote %s", files[0].Name())
			}
		})
	}
}

// TestCommitsBetweenTakesObjectNamesOnly: the provenance's commit comes
// from the registry too.
func TestCommitsBetweenTakesObjectNamesOnly(t *testing.T) {
	src := t.TempDir()
	gitIn(t, src, "init", "-q")
	gitIn(t, src, "commit", "-q", "--allow-empty", "-m", "one")
	head := gitIn(t, src, "rev-parse", "HEAD")
	for _, c := range [][2]string{{head, "--all"}, {"-n1", head}, {head, "HEAD"}} {
		if got, err := commitsBetween(context.Background(), src, c[0], c[1]); err == nil {
			t.Errorf("commitsBetween(%q, %q) = %v, want an error", c[0], c[1], got)
		}
	}
}

func FuzzObjectName(f *testing.F) {
	for _, s := range []string{strings.Repeat("a", 40), strings.Repeat("0", 64), "--output=x", "HEAD~1", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ObjectName(s) {
			return
		}
		if (len(s) != 40 && len(s) != 64) || strings.Trim(s, "0123456789abcdef") != "" {
			t.Fatalf("accepted %q", s)
		}
	})
}
