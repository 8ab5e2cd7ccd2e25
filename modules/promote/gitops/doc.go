// Package gitops is the GitOps bump of a promotion: once an image is
// promoted to REPO@sha256:…, it pins that digest in a production overlay
// of a local git checkout, commits the change on a branch of its own and,
// if asked, pushes the branch and opens a GitHub pull request for it.
//
// # One-line diffs
//
// SetKustomizeImage and SetHelmImage are pure functions over the file's
// bytes. They find the value to change with yaml.v3's node tree and
// replace just its text, in the quoting style it had; comments, order,
// indentation and line endings (LF or CRLF) stay byte for byte. The
// result is then parsed again and must equal the original tree with only
// the planned change, or the edit is refused: a file that cannot be
// changed in place (a multi-line or block scalar, an alias, a tag, a
// merge key) is an error, never a reformatted file. So a bump changes one
// line; the exceptions are documented where they happen (a missing
// digest: key in a kustomize entry adds one line; an entry whose newName
// must change as well changes two; a kustomization with no entry for the
// image gets one, whose lines are inserted and nothing else changes). A
// line added after a last line that has no line break gives that line
// one, which git shows as a change.
//
// # Which image
//
// In a kustomization, the images: entry whose name is the one given, or
// else whose name or newName is the promoted repository, exactly as
// written. When there is none, an entry is added, as kustomize edit set
// image does; its name is the one given or else the one Run finds in the
// overlay's bases at the same commit (see BaseImages): the image their
// workloads run, when that is unambiguous. Otherwise the error is an
// ImageNameError listing the candidates. In Helm values, the node at a
// dotted path (default "image"), whose repository, if it has one, must be
// the promoted repository; values without it are an error wrapping
// ErrImageNotFound, since a chart's values are its own to lay out.
//
// # Commits
//
// Run commits with git plumbing against a temporary index, from the
// overlay as committed at the base, so the checkout's HEAD, index and
// files are left as they were. An overlay that already pins the digest
// gives no commit, and a branch that already holds the change is reused,
// so running a bump twice commits once. OpenPullRequest is idempotent
// the same way: a pull request already open for the branch is returned
// rather than duplicated.
package gitops
