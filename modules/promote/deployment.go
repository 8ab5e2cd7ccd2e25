package promote

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Deployment is the record of one promotion into an environment, for the
// DORA metrics: which service, which artifact, and which commits it brings
// to the environment. paved promote emits it as a CDEvent
// (service.deployed); its deployments file is one of the event sinks.
type Deployment struct {
	Environment string `json:"environment"`
	Service     string `json:"service"`
	// Artifact is the package URL of the promoted image, as CDEvents'
	// service.deployed carries it.
	Artifact string `json:"artifactId"`
	Digest   string `json:"digest"`
	// Repository and Commit are the source the provenance names.
	Repository string `json:"repository,omitempty"`
	Commit     string `json:"commit,omitempty"`
	// PreviousDigest is the image the overlay named before, and
	// PreviousCommit its source commit, when known.
	PreviousDigest string `json:"previousDigest,omitempty"`
	PreviousCommit string `json:"previousCommit,omitempty"`
	// Commits are the commits this deployment brings, newest first: every
	// commit after the previous deployment's, up to Commit, when a checkout
	// of the source lets paved list them; otherwise just Commit. Their
	// times are what lead time is measured from.
	Commits []Commit  `json:"commits,omitempty"`
	Time    time.Time `json:"time"`
}

// Commit is one commit a deployment brings. Author and Time are known
// when a checkout of the source has it.
type Commit struct {
	SHA    string `json:"sha"`
	Author string `json:"author,omitempty"`
	// Time is the commit (committer) time: for a squash or a rebase, when
	// the change landed on the branch.
	Time time.Time `json:"time,omitzero"`
}

// logFormat prints a commit as hash, author and committer time, separated
// by a unit separator (no author name holds one).
const logFormat = "--format=%H%x1f%an <%ae>%x1f%cI"

// gitLog runs git log in dir on revs, which must be a full object name
// (ObjectName) or a range of two: they come after --end-of-options.
func gitLog(ctx context.Context, dir string, max int, revs string) ([]Commit, error) {
	args := []string{"-C", dir, "log", logFormat}
	if max > 0 {
		args = append(args, fmt.Sprintf("--max-count=%d", max))
	}
	cmd := exec.CommandContext(ctx, "git", append(args, "--end-of-options", revs)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git log: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var commits []Commit
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\x1f")
		if len(f) != 3 || !ObjectName(f[0]) {
			return nil, fmt.Errorf("git log: unexpected line %q", clip(line))
		}
		t, err := time.Parse(time.RFC3339, f[2])
		if err != nil {
			return nil, fmt.Errorf("git log: commit %s: %w", f[0], err)
		}
		commits = append(commits, Commit{SHA: f[0], Author: f[1], Time: t.UTC()})
	}
	return commits, nil
}

// commitInfo reads one commit's author and time from the checkout in dir.
func commitInfo(ctx context.Context, dir, sha string) (Commit, error) {
	if !ObjectName(sha) {
		return Commit{}, fmt.Errorf("%q is not a full commit hash", clip(sha))
	}
	cs, err := gitLog(ctx, dir, 1, sha)
	if err != nil {
		return Commit{}, err
	}
	if len(cs) != 1 {
		return Commit{}, fmt.Errorf("git log: no commit %s", sha)
	}
	return cs[0], nil
}
