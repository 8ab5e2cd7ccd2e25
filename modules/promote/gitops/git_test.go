package gitops

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// These tests drive the real git CLI on real repositories in temporary
// directories.

// isolate gives git a machine with no configuration at all (as in a
// fresh CI container) and returns the path of an empty global config
// file a test may fill.
func isolate(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		ci.Unavailable(t, "no git on PATH")
	}
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return global
}

// git runs git in dir as the fixture's author and returns its output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Fixture", "-c", "user.email=fixture@example.test", "-c", "core.autocrlf=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// newRepo makes a repository on main with files committed, and returns
// its directory and the commit.
func newRepo(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	for name, content := range files {
		write(t, filepath.Join(dir, name), content)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "initial")
	return dir, git(t, dir, "rev-parse", "HEAD")
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const source = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"

// TestRunOneLineDiff is the acceptance test: the bump is a one-line diff
// on a branch of its own, the checkout is left exactly as it was, and a
// second run commits nothing.
func TestRunOneLineDiff(t *testing.T) {
	tests := []struct {
		name    string
		overlay string
		content string
		opts    Options
		line    string // the line the branch must have
		old     string
	}{{
		name:    "kustomize",
		overlay: "deploy/prod/kustomization.yaml",
		content: kustomization,
		opts:    Options{Image: api},
		line:    `    digest: "` + newDigest + `"   # bumped by paved`,
		old:     "ghcr.io/acme/api:v1.4.2",
	}, {
		name:    "helm values",
		overlay: "charts/api/values-prod.yaml",
		content: values,
		opts:    Options{Image: api, Name: "image"},
		line:    `  digest: "` + newDigest + `"  # set by paved`,
		old:     "ghcr.io/acme/api:1.4.2",
	}, {
		name:    "CRLF kustomize",
		overlay: "deploy/prod/kustomization.yaml",
		content: strings.ReplaceAll(kustomization, "\n", "\r\n"),
		opts:    Options{Image: api},
		line:    `    digest: "` + newDigest + `"   # bumped by paved` + "\r",
		old:     "ghcr.io/acme/api:v1.4.2",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			dir, base := newRepo(t, map[string]string{
				tt.overlay:                tt.content,
				"deploy/base/deploy.yaml": "kind: Deployment\n",
				"README.md":               "# deploy\n",
			})
			// Local work in progress that the bump must not touch.
			write(t, filepath.Join(dir, "README.md"), "# deploy (editing)\n")
			write(t, filepath.Join(dir, "notes.txt"), "untracked\n")
			status := git(t, dir, "status", "--porcelain")
			index := read(t, filepath.Join(dir, ".git", "index"))

			opts := tt.opts
			opts.Dir, opts.Overlay, opts.SourceCommit = dir, tt.overlay, source
			res, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			wantBranch := "paved/promote-api-" + strings.TrimPrefix(newDigest, "sha256:")[:12]
			if !res.Changed || res.Branch != wantBranch || res.Base != base || res.BaseBranch != "main" || res.File != tt.overlay {
				t.Fatalf("result %+v", res)
			}
			if res.OldRef != tt.old || res.NewRef != api.Ref() {
				t.Errorf("refs %q -> %q", res.OldRef, res.NewRef)
			}
			if got := git(t, dir, "rev-parse", "refs/heads/"+res.Branch); got != res.Commit {
				t.Errorf("branch at %s, result says %s", got, res.Commit)
			}
			if got := git(t, dir, "rev-parse", res.Commit+"^"); got != base {
				t.Errorf("commit's parent is %s, want the base %s", got, base)
			}

			// Exactly one line, in the overlay only.
			if got := git(t, dir, "diff", "--numstat", base, res.Branch); got != "1\t1\t"+tt.overlay {
				t.Errorf("numstat = %q, want one line changed in %s", got, tt.overlay)
			}
			diff := git(t, dir, "diff", "-U0", base, res.Branch) + "\n"
			if !strings.Contains(diff, "\n+"+tt.line+"\n") {
				t.Errorf("the diff does not add %q:\n%s", tt.line, diff)
			}
			if got := git(t, dir, "show", res.Branch+":"+tt.overlay); !strings.Contains(got, tt.line) {
				t.Errorf("overlay on the branch:\n%s", got)
			}

			// The message names the source commit and the digest; the
			// author is paved's default, git having no identity here.
			msg := git(t, dir, "log", "-1", "--format=%B", res.Branch)
			wantSubject := "promote ghcr.io/acme/api@" + newDigest[:19] + " (source 1a2b3c4d5e6f)"
			if subject, _, _ := strings.Cut(msg, "\n"); subject != wantSubject {
				t.Errorf("subject %q, want %q", subject, wantSubject)
			}
			for _, want := range []string{"Image: ghcr.io/acme/api@" + newDigest, "Source-Commit: " + source, "Previous-Image: " + tt.old} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if got := git(t, dir, "log", "-1", "--format=%an <%ae> / %cn <%ce>", res.Branch); got != "paved <paved@localhost> / paved <paved@localhost>" {
				t.Errorf("author / committer: %s", got)
			}

			// The checkout is as it was.
			if got := git(t, dir, "rev-parse", "HEAD"); got != base {
				t.Errorf("HEAD moved to %s", got)
			}
			if got := git(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
				t.Errorf("HEAD is %s", got)
			}
			if got := git(t, dir, "status", "--porcelain"); got != status {
				t.Errorf("status changed:\n%s\nwas:\n%s", got, status)
			}
			if read(t, filepath.Join(dir, ".git", "index")) != index {
				t.Error("the index was rewritten")
			}
			if got := read(t, filepath.Join(dir, tt.overlay)); got != tt.content {
				t.Errorf("overlay in the work tree changed:\n%s", got)
			}

			// Twice: no second commit.
			again, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed || again.Branch != res.Branch || again.Commit != res.Commit || again.OldRef != tt.old {
				t.Errorf("second run: %+v", again)
			}
			if n := git(t, dir, "rev-list", "--count", base+".."+res.Branch); n != "1" {
				t.Errorf("%s commits on the branch after two runs", n)
			}
		})
	}
}

func TestRunAlreadyPinned(t *testing.T) {
	isolate(t)
	pinned := replaceLine(t, kustomization, `    newTag: "v1.4.2"   # bumped by paved`, "    digest: "+newDigest)
	dir, _ := newRepo(t, map[string]string{"kustomization.yaml": pinned})
	res, err := Run(context.Background(), Options{Dir: dir, Overlay: "kustomization.yaml", Image: api, SourceCommit: source})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Branch != "" || res.Commit != "" || res.OldRef != api.Ref() {
		t.Errorf("result %+v", res)
	}
	if refs := git(t, dir, "for-each-ref", "--format=%(refname)", "refs/heads/"); refs != "refs/heads/main" {
		t.Errorf("branches: %s", refs)
	}
}

// TestRunFromCommittedOverlay: uncommitted edits of the overlay are not
// what gets bumped; the committed file at the base is, and the edits stay.
func TestRunFromCommittedOverlay(t *testing.T) {
	isolate(t)
	dir, base := newRepo(t, map[string]string{"prod/kustomization.yaml": kustomization})
	dirty := strings.Replace(kustomization, "namespace: prod", "namespace: staging", 1)
	write(t, filepath.Join(dir, "prod/kustomization.yaml"), dirty)
	res, err := Run(context.Background(), Options{Dir: dir, Overlay: "prod/kustomization.yaml", Image: api, Branch: "bump/api"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Branch != "bump/api" {
		t.Errorf("branch %s, want the one given", res.Branch)
	}
	if got := git(t, dir, "diff", "--numstat", base, "bump/api"); got != "1\t1\tprod/kustomization.yaml" {
		t.Errorf("numstat = %q", got)
	}
	if got := read(t, filepath.Join(dir, "prod/kustomization.yaml")); got != dirty {
		t.Errorf("the uncommitted edit was lost:\n%s", got)
	}
}

// TestRunSharedBranch: two overlays bumped to one digest land on one
// branch, one commit each, the second on top of the first.
func TestRunSharedBranch(t *testing.T) {
	isolate(t)
	dir, base := newRepo(t, map[string]string{
		"eu/kustomization.yaml": kustomization,
		"us/values.yaml":        values,
	})
	first, err := Run(context.Background(), Options{Dir: dir, Overlay: "eu/kustomization.yaml", Image: api})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(context.Background(), Options{Dir: dir, Overlay: "us/values.yaml", Image: api})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Changed || second.Branch != first.Branch || second.Base != base {
		t.Fatalf("second: %+v", second)
	}
	if got := git(t, dir, "rev-parse", second.Commit+"^"); got != first.Commit {
		t.Errorf("second commit's parent %s, want the first %s", got, first.Commit)
	}
	if got := git(t, dir, "diff", "--numstat", base, second.Branch); got != "1\t1\teu/kustomization.yaml\n1\t1\tus/values.yaml" {
		t.Errorf("numstat = %q", got)
	}
}

func TestRunSubdirectory(t *testing.T) {
	isolate(t)
	dir, base := newRepo(t, map[string]string{"deploy/prod/kustomization.yaml": kustomization})
	res, err := Run(context.Background(), Options{Dir: filepath.Join(dir, "deploy"), Overlay: "prod/kustomization.yaml", Image: api, Service: "checkout"})
	if err != nil {
		t.Fatal(err)
	}
	branch := "paved/promote-checkout-" + newDigest[7:19]
	if res.File != "deploy/prod/kustomization.yaml" || res.Branch != branch {
		t.Errorf("result %+v", res)
	}
	if got := git(t, dir, "diff", "--numstat", base, branch); got != "1\t1\tdeploy/prod/kustomization.yaml" {
		t.Errorf("numstat = %q", got)
	}
}

func TestRunIdentity(t *testing.T) {
	tests := []struct {
		name   string
		config string
		author Identity
		want   string
	}{
		{name: "none configured", want: "paved <paved@localhost>"},
		{name: "configured", config: "[user]\n\tname = Release Bot\n\temail = bot@example.test\n", want: "Release Bot <bot@example.test>"},
		{name: "given", config: "[user]\n\tname = Release Bot\n\temail = bot@example.test\n", author: Identity{"Deployer", "deployer@example.test"}, want: "Deployer <deployer@example.test>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, isolate(t), tt.config)
			dir, _ := newRepo(t, map[string]string{"kustomization.yaml": kustomization})
			res, err := Run(context.Background(), Options{Dir: dir, Overlay: "kustomization.yaml", Image: api, Author: tt.author})
			if err != nil {
				t.Fatal(err)
			}
			if got := git(t, dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>", res.Commit); got != tt.want+"|"+tt.want {
				t.Errorf("author|committer = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestRunPush pushes to a bare repository standing in for the remote.
func TestRunPush(t *testing.T) {
	isolate(t)
	dir, _ := newRepo(t, map[string]string{"kustomization.yaml": kustomization})
	remote := filepath.Join(t.TempDir(), "deploy.git")
	git(t, dir, "init", "-q", "--bare", remote)
	git(t, dir, "remote", "add", "origin", remote)
	opts := Options{Dir: dir, Overlay: "kustomization.yaml", Image: api, Remote: "origin"}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Pushed {
		t.Error("Pushed is false")
	}
	if got := git(t, remote, "rev-parse", "refs/heads/"+res.Branch); got != res.Commit {
		t.Errorf("remote branch at %s, want %s", got, res.Commit)
	}
	// A second run pushes again (a first push may have failed) without
	// committing.
	git(t, remote, "update-ref", "-d", "refs/heads/"+res.Branch)
	again, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || !again.Pushed || again.Commit != res.Commit {
		t.Errorf("second run: %+v", again)
	}
	if got := git(t, remote, "rev-parse", "refs/heads/"+res.Branch); got != res.Commit {
		t.Errorf("remote branch at %s after the second run, want %s", got, res.Commit)
	}

	opts.Remote = "nowhere"
	opts.Image.Digest = digest("another build")
	if _, err := Run(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "push") || !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("push to a missing remote: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	isolate(t)
	dir, _ := newRepo(t, map[string]string{
		"prod/kustomization.yaml": kustomization,
		"prod/values.yaml":        values,
	})
	outside := filepath.Join(t.TempDir(), "kustomization.yaml")
	write(t, outside, kustomization)
	if err := os.Symlink(outside, filepath.Join(dir, "prod", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "links")
	git(t, dir, "branch", "taken")
	notRepo := t.TempDir()
	write(t, filepath.Join(notRepo, "kustomization.yaml"), kustomization)

	ok := Options{Dir: dir, Overlay: "prod/kustomization.yaml", Image: api}
	tests := []struct {
		name string
		edit func(*Options)
		want []string
		is   error
	}{
		{name: "image not in the overlay", edit: func(o *Options) { o.Image.Repository = "ghcr.io/acme/billing" },
			want: []string{"ghcr.io/acme/billing", "prod/kustomization.yaml"}, is: ErrImageNotFound},
		{name: "helm path not in the values", edit: func(o *Options) { o.Overlay, o.Name = "prod/values.yaml", "api.image" },
			want: []string{"api", "prod/values.yaml"}, is: ErrImageNotFound},
		{name: "dot-dot escape", edit: func(o *Options) { o.Overlay = "../x/kustomization.yaml" }, want: []string{"inside the checkout"}},
		{name: "escape after cleaning", edit: func(o *Options) { o.Overlay = "prod/../../kustomization.yaml" }, want: []string{"inside the checkout"}},
		{name: "absolute path", edit: func(o *Options) { o.Overlay = outside }, want: []string{"inside the checkout"}},
		{name: "escape from a subdirectory", edit: func(o *Options) { o.Dir, o.Overlay = filepath.Join(dir, "prod"), "../prod/kustomization.yaml" }, want: []string{"inside the checkout"}},
		{name: "symlink out", edit: func(o *Options) { o.Overlay = "prod/link.yaml" }, want: []string{"symbolic link"}},
		{name: "through a symlinked directory", edit: func(o *Options) { o.Overlay = "elsewhere/kustomization.yaml" }, want: []string{"does not exist"}, is: os.ErrNotExist},
		{name: "missing file", edit: func(o *Options) { o.Overlay = "prod/missing.yaml" }, want: []string{"prod/missing.yaml", "does not exist"}, is: os.ErrNotExist},
		{name: "a directory", edit: func(o *Options) { o.Overlay = "prod" }, want: []string{"tree"}},
		{name: "not a git repository", edit: func(o *Options) { o.Dir, o.Overlay = notRepo, "kustomization.yaml" }, want: []string{"not a git work tree", notRepo}},
		{name: "bad base", edit: func(o *Options) { o.Base = "nosuch" }, want: []string{"nosuch", "not a commit"}},
		{name: "bad branch", edit: func(o *Options) { o.Branch = "a..b" }, want: []string{"a..b", "not a valid branch"}},
		{name: "bad service", edit: func(o *Options) { o.Service = "a b" }, want: []string{"paved/promote-a b-", "not a valid branch"}},
		{name: "checked-out branch", edit: func(o *Options) { o.Branch = "main" }, want: []string{"main", "checked out"}},
		{name: "bad source", edit: func(o *Options) { o.SourceCommit = "abc\nFake: trailer" }, want: []string{"source commit"}},
		{name: "bad kind", edit: func(o *Options) { o.Kind = "jsonnet" }, want: []string{"jsonnet"}},
		{name: "bad image", edit: func(o *Options) { o.Image.Digest = "latest" }, want: []string{"latest"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ok
			tt.edit(&opts)
			res, err := Run(context.Background(), opts)
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
	if got := git(t, dir, "for-each-ref", "--format=%(refname)", "refs/heads/"); got != "refs/heads/main\nrefs/heads/taken" {
		t.Errorf("failed runs left branches: %s", got)
	}
}

func TestRunCanceled(t *testing.T) {
	isolate(t)
	dir, _ := newRepo(t, map[string]string{"kustomization.yaml": kustomization})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Dir: dir, Overlay: "kustomization.yaml", Image: api}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
