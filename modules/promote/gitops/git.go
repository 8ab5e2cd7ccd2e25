package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Identity is a commit author.
type Identity struct {
	Name, Email string
}

// DefaultIdentity signs commits when neither Options.Author nor git's own
// configuration names anyone.
var DefaultIdentity = Identity{Name: "paved", Email: "paved@localhost"}

// Options describe one GitOps bump.
type Options struct {
	// Dir is a directory of a git checkout (its top or below).
	Dir string
	// Overlay is the file to edit, relative to Dir; it must stay inside
	// the checkout and be a regular file committed at Base.
	Overlay string
	// Kind is the overlay's format; "" detects it from the file name.
	Kind Kind
	// Name selects the image in the overlay: the kustomize images: entry
	// name (default: the entry whose name or newName is the repository),
	// or the Helm values path (default DefaultHelmPath).
	Name  string
	Image Image
	// SourceCommit is the commit the image was built from; the commit
	// message names it.
	SourceCommit string
	// Base is the commit to start from; default HEAD.
	Base string
	// Branch receives the commit; default DefaultBranch(Service, digest).
	Branch string
	// Service names the service in the default branch; default the
	// repository's last path element.
	Service string
	// Remote, when set, is where the branch is pushed (no force).
	Remote string
	// Author signs the commit. Default: git's configured identity, or
	// DefaultIdentity when git has none.
	Author Identity
}

// Result is what a bump did.
type Result struct {
	// Changed says this run made a commit. It is false when Base already
	// pins the digest (nothing to do: Branch is "") and when Branch
	// already holds the change from an earlier run (Branch and Commit are
	// set, so a pull request can still be opened for it).
	Changed bool
	Branch  string // the branch holding the change
	Commit  string // its tip
	Base    string // the commit Base resolved to
	// BaseBranch is the branch Base names (main for HEAD on main, or for
	// origin/main), the natural base of a pull request; "" for a detached
	// HEAD or a commit.
	BaseBranch string
	File       string // the overlay, relative to the repository's top, with slashes
	// OldRef is what the overlay pins at Base, i.e. what runs now; NewRef
	// is what the branch pins. See Edit.
	OldRef, NewRef string
	Message        string // the commit message (Branch's, when set)
	Pushed         bool   // the branch was pushed to Options.Remote
}

// Run pins opts.Image in opts.Overlay and commits that on a branch.
//
// It works on git objects, not on the checkout: the overlay is read from
// Base, the new file is written as a blob, and the commit is made with a
// temporary index (git read-tree, update-index, write-tree, commit-tree,
// update-ref). The checkout's HEAD, index and files are never touched, so
// uncommitted changes there are neither used nor disturbed, and a branch
// that is checked out anywhere is refused rather than moved under it.
//
// Run is idempotent: when Base already pins the digest it commits nothing;
// when Branch exists it builds on Branch's tip instead of Base (so
// several overlays bumped to one digest share a branch), and commits
// nothing if the tip already pins the digest.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	kind := opts.Kind
	if kind == "" {
		kind = DetectKind(opts.Overlay)
	}
	g := gitCmd{dir: opts.Dir}
	top, err := g.out(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not a git work tree: %w", opts.Dir, err)
	}
	prefix, err := g.out(ctx, "rev-parse", "--show-prefix")
	if err != nil {
		return nil, err
	}
	g.dir = top
	res := &Result{File: path.Join(prefix, filepath.ToSlash(filepath.Clean(opts.Overlay)))}
	if !filepath.IsLocal(res.File) {
		return nil, fmt.Errorf("overlay %s is outside the checkout", opts.Overlay)
	}

	base := opts.Base
	if base == "" {
		base = "HEAD"
	}
	// --end-of-options: base and the branch come from users; validate
	// refuses a leading "-" too, since rev-parse takes --end-of-options
	// only with --verify.
	if res.Base, err = g.out(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", base+"^{commit}"); err != nil {
		return nil, fmt.Errorf("base %s is not a commit: %w", base, err)
	}
	if full, err := g.out(ctx, "rev-parse", "--symbolic-full-name", base); err == nil {
		res.BaseBranch = branchName(full)
	}

	at := func(commit string) (*Edit, string, error) {
		data, mode, err := g.readFile(ctx, commit, res.File)
		if err != nil {
			return nil, "", err
		}
		e, err := SetImage(data, kind, opts.Name, opts.Image)
		// An overlay without an entry for the image gets one, named as the
		// bases at the same commit name the image.
		if kind == Kustomize && (opts.Name == "" && errors.Is(err, ErrImageNotFound) || err == nil && e.Added) {
			fsys, ferr := g.commitFS(ctx, commit)
			if ferr != nil {
				return nil, "", ferr
			}
			name, refs, nerr := baseImageName(fsys, res.File, data, opts.Name, opts.Image)
			if nerr != nil {
				return nil, "", nerr
			}
			if e, err = SetImage(data, kind, name, opts.Image); err == nil && len(refs) == 1 {
				e.OldRef = refs[0] // what ran before
			}
		}
		if err != nil {
			return nil, "", fmt.Errorf("overlay %s at %.12s: %w", res.File, commit, err)
		}
		return e, mode, nil
	}
	edit, mode, err := at(res.Base)
	if err != nil {
		return nil, err
	}
	res.OldRef, res.NewRef = edit.OldRef, edit.NewRef
	if !edit.Changed {
		return res, nil
	}

	res.Branch = opts.Branch
	if res.Branch == "" {
		service := opts.Service
		if service == "" {
			service = path.Base(opts.Image.Repository)
		}
		res.Branch = DefaultBranch(service, opts.Image.Digest)
	}
	ref := "refs/heads/" + res.Branch
	if _, err := g.out(ctx, "check-ref-format", ref); err != nil || strings.HasPrefix(res.Branch, "-") {
		return nil, fmt.Errorf("%q is not a valid branch name", res.Branch)
	}
	res.Message = opts.message(res)
	parent := res.Base
	tip, err := g.out(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err == nil {
		// An earlier run (or a bump of another overlay to the same
		// digest) made the branch: build on it, or stop if it is done.
		onTip, tipMode, err := at(tip)
		if err != nil {
			return nil, fmt.Errorf("branch %s exists: %w", res.Branch, err)
		}
		if !onTip.Changed {
			res.Commit = tip
			return res, opts.push(ctx, g, res)
		}
		parent, edit, mode = tip, onTip, tipMode
	} else {
		tip = ""
	}
	if err := g.notCheckedOut(ctx, ref); err != nil {
		return nil, err
	}

	ident, err := g.identity(ctx, opts.Author)
	if err != nil {
		return nil, err
	}
	if res.Commit, err = g.commit(ctx, parent, res.File, mode, edit.Output, res.Message, ident); err != nil {
		return nil, err
	}
	// The old value makes the update a compare-and-swap: a branch created
	// or moved meanwhile is an error, not something to overwrite.
	if _, err := g.out(ctx, "update-ref", "-m", "paved: "+firstLine(res.Message), "--end-of-options", ref, res.Commit, tip); err != nil {
		return nil, fmt.Errorf("update branch %s: %w", res.Branch, err)
	}
	res.Changed = true
	return res, opts.push(ctx, g, res)
}

// PullRequest is the pull request for r's branch, to be completed with
// the repository and a token: the commit message's subject and body are
// its title and body, r.Branch its head and r.BaseBranch its base.
func (r *Result) PullRequest() PullRequest {
	subject, body, _ := strings.Cut(r.Message, "\n")
	return PullRequest{Head: r.Branch, Base: r.BaseBranch, Title: subject, Body: strings.TrimSpace(body)}
}

func (o Options) validate() error {
	var errs []error
	if o.Dir == "" {
		errs = append(errs, errors.New("no checkout directory given"))
	}
	if o.Overlay == "" {
		errs = append(errs, errors.New("no overlay file given"))
	} else if !filepath.IsLocal(o.Overlay) {
		errs = append(errs, fmt.Errorf("overlay %s must be a path inside the checkout, relative to it", o.Overlay))
	}
	if o.Kind != "" && o.Kind != Kustomize && o.Kind != HelmValues {
		errs = append(errs, fmt.Errorf("unknown overlay kind %q (want %s or %s)", o.Kind, Kustomize, HelmValues))
	}
	if err := o.Image.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !sourceRE.MatchString(o.SourceCommit) {
		errs = append(errs, fmt.Errorf("source commit %q is not a commit name", o.SourceCommit))
	}
	if strings.HasPrefix(o.Base, "-") {
		errs = append(errs, fmt.Errorf("base %q is not a revision", o.Base))
	}
	if strings.HasPrefix(o.Remote, "-") || strings.ContainsAny(o.Remote, " \t\r\n") {
		errs = append(errs, fmt.Errorf("remote %q is not a remote name", o.Remote))
	}
	if strings.ContainsAny(o.Author.Name+o.Author.Email, "<>\n") {
		errs = append(errs, fmt.Errorf("author %q <%s> cannot be written in a commit", o.Author.Name, o.Author.Email))
	}
	return errors.Join(errs...)
}

// sourceRE accepts a commit hash or another short single-line name; ""
// (no source known) too.
var sourceRE = regexp.MustCompile(`^[A-Za-z0-9._/-]{0,100}$`)

// DefaultBranch is the branch a bump lands on when Options.Branch is
// empty: paved/promote-<service>-<first 12 hex digits of the digest>.
func DefaultBranch(service, digest string) string {
	_, hex, _ := strings.Cut(shortDigest(digest), ":")
	return "paved/promote-" + service + "-" + hex
}

// message is the commit message: a subject naming the image, the short
// digest and the source commit, then trailers with the full values, for
// people and for tools that work out what a deployment carries.
func (o Options) message(r *Result) string {
	subject := "promote " + o.Image.Repository + "@" + shortDigest(o.Image.Digest)
	if o.SourceCommit != "" {
		subject += " (source " + o.SourceCommit[:min(len(o.SourceCommit), 12)] + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nPin %s to the promoted image.\n\n", subject, r.File)
	fmt.Fprintf(&b, "Image: %s\n", r.NewRef)
	if r.OldRef != "" {
		fmt.Fprintf(&b, "Previous-Image: %s\n", r.OldRef)
	}
	if o.SourceCommit != "" {
		fmt.Fprintf(&b, "Source-Commit: %s\n", o.SourceCommit)
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// branchName turns a full ref name into the branch a pull request would
// use: refs/heads/main and refs/remotes/origin/main are both main.
func branchName(full string) string {
	if b, ok := strings.CutPrefix(full, "refs/heads/"); ok {
		return b
	}
	if r, ok := strings.CutPrefix(full, "refs/remotes/"); ok {
		if _, b, ok := strings.Cut(r, "/"); ok && b != "HEAD" {
			return b
		}
	}
	return ""
}

func (o Options) push(ctx context.Context, g gitCmd, r *Result) error {
	if o.Remote == "" {
		return nil
	}
	if _, err := g.out(ctx, "push", "--quiet", "--end-of-options", o.Remote, r.Commit+":refs/heads/"+r.Branch); err != nil {
		return fmt.Errorf("push %s to %s: %w", r.Branch, o.Remote, err)
	}
	r.Pushed = true
	return nil
}

// gitCmd runs the git CLI in a directory.
type gitCmd struct {
	dir string
	env []string // added to the environment
}

// GitError is a git command that failed.
type GitError struct {
	Args   []string
	Stderr string
	Err    error
}

func (e *GitError) Error() string {
	msg := fmt.Sprintf("git %s: %v", strings.Join(e.Args, " "), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *GitError) Unwrap() error { return e.Err }

func (g gitCmd) run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.dir}, args...)...)
	// No prompts (a bot has no one to answer), no translated messages,
	// and paths taken literally, never as patterns.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "GIT_LITERAL_PATHSPECS=1")
	cmd.Env = append(cmd.Env, g.env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return nil, &GitError{Args: args, Stderr: msg, Err: err}
	}
	return stdout.Bytes(), nil
}

// out runs git and returns its output without the final line break.
func (g gitCmd) out(ctx context.Context, args ...string) (string, error) {
	b, err := g.run(ctx, nil, args...)
	return strings.TrimRight(string(b), "\r\n"), err
}

// readFile reads a regular file committed at commit, and its mode.
func (g gitCmd) readFile(ctx context.Context, commit, file string) ([]byte, string, error) {
	ls, err := g.out(ctx, "ls-tree", "--full-tree", "-z", commit, "--", file)
	if err != nil {
		return nil, "", err
	}
	meta, name, _ := strings.Cut(strings.TrimSuffix(ls, "\x00"), "\t")
	f := strings.Fields(meta)
	if name != file || len(f) != 3 {
		return nil, "", fmt.Errorf("overlay %s: %w at %.12s", file, os.ErrNotExist, commit)
	}
	switch mode, typ, oid := f[0], f[1], f[2]; {
	case mode == "120000":
		return nil, "", fmt.Errorf("overlay %s is a symbolic link at %.12s; give the file it points to", file, commit)
	case typ != "blob":
		return nil, "", fmt.Errorf("overlay %s is a %s at %.12s, not a file", file, typ, commit)
	default:
		data, err := g.run(ctx, nil, "cat-file", "blob", oid)
		return data, mode, err
	}
}

// notCheckedOut refuses a branch that a work tree has checked out:
// moving it would leave that work tree's files behind its HEAD.
func (g gitCmd) notCheckedOut(ctx context.Context, ref string) error {
	list, err := g.out(ctx, "worktree", "list", "--porcelain")
	if err != nil {
		return err
	}
	var wt string
	for _, line := range strings.Split(list, "\n") {
		if p, ok := strings.CutPrefix(line, "worktree "); ok {
			wt = p
		}
		if line == "branch "+ref {
			return fmt.Errorf("branch %s is checked out in %s; paved commits on a branch of its own", strings.TrimPrefix(ref, "refs/heads/"), wt)
		}
	}
	return nil
}

// identity is the environment that names the commit's author and
// committer: the one given, else git's configuration (or GIT_AUTHOR_*
// variables) if it names someone, else DefaultIdentity.
func (g gitCmd) identity(ctx context.Context, who Identity) ([]string, error) {
	if who == (Identity{}) {
		// useConfigOnly stops git from making up an identity from the
		// user and host names.
		_, errA := g.out(ctx, "-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT")
		_, errC := g.out(ctx, "-c", "user.useConfigOnly=true", "var", "GIT_COMMITTER_IDENT")
		if errA == nil && errC == nil {
			return nil, nil
		}
		who = DefaultIdentity
	}
	if who.Name == "" || who.Email == "" {
		return nil, fmt.Errorf("author %q <%s> needs both a name and an email", who.Name, who.Email)
	}
	return []string{
		"GIT_AUTHOR_NAME=" + who.Name, "GIT_AUTHOR_EMAIL=" + who.Email,
		"GIT_COMMITTER_NAME=" + who.Name, "GIT_COMMITTER_EMAIL=" + who.Email,
	}, nil
}

// commit makes a commit whose tree is parent's with file replaced by
// data, using a temporary index so the checkout's own is not touched.
func (g gitCmd) commit(ctx context.Context, parent, file, mode string, data []byte, msg string, ident []string) (string, error) {
	blob, err := g.run(ctx, data, "hash-object", "-t", "blob", "-w", "--stdin")
	if err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp("", "paved-gitops-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	ig := gitCmd{dir: g.dir, env: append(slices.Clip(g.env), "GIT_INDEX_FILE="+filepath.Join(tmp, "index"))}
	if _, err := ig.out(ctx, "read-tree", parent); err != nil {
		return "", err
	}
	if _, err := ig.out(ctx, "update-index", "--cacheinfo", mode+","+strings.TrimSpace(string(blob))+","+file); err != nil {
		return "", err
	}
	tree, err := ig.out(ctx, "write-tree")
	if err != nil {
		return "", err
	}
	cg := gitCmd{dir: g.dir, env: append(slices.Clip(g.env), ident...)}
	out, err := cg.run(ctx, []byte(msg), "commit-tree", tree, "-p", parent, "-F", "-")
	return strings.TrimSpace(string(out)), err
}
