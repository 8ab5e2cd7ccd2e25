package promote

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/modules/promote/gitops"
	"github.com/pavedhq/paved/modules/registry"
)

// GitOps is where a promotion pins its image: an overlay in a local
// checkout of the GitOps repository, committed on a branch (see package
// gitops), optionally pushed and proposed as a GitHub pull request.
type GitOps struct {
	Dir     string // the checkout
	Overlay string // kustomization.yaml or Helm values, relative to Dir
	// Name picks the image in the overlay: a kustomize images: entry name
	// or a Helm values path; default the entry naming the repository, or
	// "image".
	Name   string
	Branch string // default paved/promote-<service>-<digest>
	Remote string // push the branch there, when set
	GitHub *GitHub
	// SourceDir is a checkout of the service's source. With it, the
	// deployment lists every commit since the image the overlay pinned
	// before, not just the promoted commit.
	SourceDir string
}

// GitHub opens a pull request for the bump through the REST API.
type GitHub struct {
	Repo   string // owner/name
	APIURL string // default https://api.github.com
	Base   string // default the branch the checkout is on
	Token  string `json:"-"`
}

// GitOpsResult is what the bump did.
type GitOpsResult struct {
	Changed     bool                      `json:"changed"`
	Branch      string                    `json:"branch,omitempty"`
	Commit      string                    `json:"commit,omitempty"`
	File        string                    `json:"file"`
	OldRef      string                    `json:"oldRef,omitempty"`
	NewRef      string                    `json:"newRef"`
	Pushed      bool                      `json:"pushed,omitempty"`
	PullRequest *gitops.OpenedPullRequest `json:"pullRequest,omitempty"`
	Warnings    []string                  `json:"warnings,omitempty"`
}

// Summary is one line for people.
func (g *GitOpsResult) Summary() string {
	var b strings.Builder
	if g.Changed {
		fmt.Fprintf(&b, "gitops: %s now pins %s on branch %s (commit %.12s)", g.File, g.NewRef, g.Branch, g.Commit)
	} else if g.Branch != "" {
		fmt.Fprintf(&b, "gitops: branch %s already pins %s in %s", g.Branch, g.NewRef, g.File)
	} else {
		fmt.Fprintf(&b, "gitops: %s already pins %s; nothing to commit", g.File, g.NewRef)
	}
	if g.Pushed {
		b.WriteString(", pushed")
	}
	if pr := g.PullRequest; pr != nil {
		fmt.Fprintf(&b, "; pull request #%d %s", pr.Number, pr.URL)
	}
	for _, w := range g.Warnings {
		b.WriteString("\ngitops: warning: " + w)
	}
	return b.String()
}

func (g *GitOps) bump(ctx context.Context, target name.Digest, tags []string, dep *Deployment, opts []remote.Option) (*GitOpsResult, error) {
	img := gitops.Image{Repository: target.Context().String(), Digest: target.DigestStr()}
	if len(tags) > 0 {
		img.Tag = tags[0]
	}
	r, err := gitops.Run(ctx, gitops.Options{
		Dir: g.Dir, Overlay: g.Overlay, Name: g.Name, Image: img, SourceCommit: dep.Commit,
		Branch: g.Branch, Service: dep.Service, Remote: g.Remote,
	})
	if err != nil {
		return nil, err
	}
	out := &GitOpsResult{Changed: r.Changed, Branch: r.Branch, Commit: r.Commit, File: r.File, OldRef: r.OldRef, NewRef: r.NewRef, Pushed: r.Pushed}

	// What ran before tells which commits this deployment brings. The
	// commits come from the registry (an annotation, the provenance): git
	// is given nothing but full object names.
	if _, old, ok := strings.Cut(r.OldRef, "@"); ok && old != target.DigestStr() {
		dep.PreviousDigest = old
		prev, err := revision(ctx, r.OldRef, opts)
		if err != nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("source commit of the previous image %s: %v", r.OldRef, err))
		}
		dep.PreviousCommit = prev
		if prev != "" && dep.Commit != "" && g.SourceDir != "" {
			commits, err := commitsBetween(ctx, g.SourceDir, prev, dep.Commit)
			if err != nil {
				out.Warnings = append(out.Warnings, fmt.Sprintf("commits since %.12s: %v", prev, err))
			}
			dep.Commits = commits
		}
	}

	if g.GitHub != nil && r.Branch != "" {
		pr := r.PullRequest()
		pr.Repo, pr.APIURL, pr.Token = g.GitHub.Repo, g.GitHub.APIURL, g.GitHub.Token
		if g.GitHub.Base != "" {
			pr.Base = g.GitHub.Base
		}
		if pr.Base == "" {
			return out, fmt.Errorf("pull request for %s: no base branch (the checkout is on no branch; name one)", r.Branch)
		}
		opened, err := gitops.OpenPullRequest(ctx, pr)
		if err != nil {
			return out, err
		}
		out.PullRequest = opened
	}
	return out, nil
}

// RevisionAnnotation is the OCI annotation naming an image's source commit.
const RevisionAnnotation = "org.opencontainers.image.revision"

// revision reads the source commit an image records in its annotations:
// a full hexadecimal object name, or "" with an error for anything else.
func revision(ctx context.Context, ref string, opts []remote.Option) (string, error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return "", err
	}
	desc, err := remote.Get(d, registry.Options(ctx, opts...)...)
	if err != nil {
		return "", err
	}
	var m struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return "", err
	}
	rev, ok := m.Annotations[RevisionAnnotation]
	if !ok {
		return "", nil
	}
	if !ObjectName(rev) {
		return "", fmt.Errorf("annotation %s %q is not a full commit hash; ignored", RevisionAnnotation, clip(rev))
	}
	return rev, nil
}

// ObjectName reports whether s is a full git object name: 40 lowercase hex
// digits (SHA-1) or 64 (SHA-256). Nothing shorter is taken, so a name
// cannot be an option, a revision expression or an ambiguous prefix.
func ObjectName(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// clip shortens what a registry says before it goes into a warning.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// commitsBetween lists the commits after prev up to head, newest first,
// with their authors and times. Both must be full object names.
func commitsBetween(ctx context.Context, dir, prev, head string) ([]Commit, error) {
	for _, c := range []string{prev, head} {
		if !ObjectName(c) {
			return nil, fmt.Errorf("%q is not a full commit hash", clip(c))
		}
	}
	return gitLog(ctx, dir, 0, prev+".."+head)
}
