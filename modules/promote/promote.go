package promote

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/modules/registry"
)

// ResultAPIVersion versions the promotion report.
const ResultAPIVersion = "paved.dev/v1alpha1"

// Request is one promotion.
type Request struct {
	// From is the image to promote: REPO@sha256:… (with an optional tag,
	// which must still point at the digest), or REPO:TAG, resolved once.
	From string
	// To is the destination repository.
	To string
	// Tags are set at the destination once everything has been copied and
	// verified there.
	Tags   []string
	Policy Policy
	// Service names the service in the deployment record; default: the
	// destination repository's last path element.
	Service string
	// GitOps, when set, bumps the image in an overlay after the copy.
	GitOps *GitOps
	// SourceDir is a checkout of the service's source, where the commits'
	// authors and times are read; optional.
	SourceDir string
}

// Result is what a promotion did, in the run report's spirit: stable JSON
// for scripts and front doors.
type Result struct {
	APIVersion  string      `json:"apiVersion"`
	Status      string      `json:"status"` // promoted, refused, failed
	Source      string      `json:"source"`
	Destination string      `json:"destination,omitempty"`
	Digest      string      `json:"digest,omitempty"`
	Tags        []string    `json:"tags,omitempty"`
	Evaluation  *Evaluation `json:"evaluation,omitempty"`
	// DestinationEvaluation re-checks signatures and attestations at the
	// destination after the copy.
	DestinationEvaluation *Evaluation   `json:"destinationEvaluation,omitempty"`
	Copied                *Copied       `json:"copied,omitempty"`
	GitOps                *GitOpsResult `json:"gitops,omitempty"`
	Deployment            *Deployment   `json:"deployment,omitempty"`
	// Warnings say what the promotion could not record (commit details,
	// events a sink did not take); none of them fails it.
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Promote checks req.From against the policy and, if it passes, copies it
// by digest with its signatures and attestations to req.To, checks it there
// again, tags it, bumps the GitOps overlay and returns the deployment to
// record. A refusal returns a *RefusedError and writes nothing anywhere.
// opts are registry options; they override paved's defaults
// (registry.Options).
func Promote(ctx context.Context, req Request, ev Evaluator, opts ...remote.Option) (*Result, error) {
	opts = registry.Options(ctx, opts...)
	res := &Result{APIVersion: ResultAPIVersion, Status: "failed", Source: req.From}
	fail := func(err error) (*Result, error) {
		res.Error = err.Error()
		return res, err
	}
	dst, err := name.NewRepository(req.To)
	if err != nil {
		return fail(&PolicyError{Field: "--to", Msg: err.Error()})
	}
	tags := make([]name.Tag, len(req.Tags))
	for i, t := range req.Tags {
		if tags[i], err = name.NewTag(dst.String()+":"+t, name.StrictValidation); err != nil {
			return fail(&PolicyError{Field: "--tag", Msg: err.Error()})
		}
	}
	src, refVerdict, err := Resolve(ctx, req.From, opts...)
	if err != nil {
		return fail(err)
	}
	res.Source = src.String()
	res.Digest = src.DigestStr()

	ev1, err := ev.Evaluate(ctx, src, req.Policy)
	if err != nil {
		return fail(fmt.Errorf("evaluate %s: %w", src, err))
	}
	if refVerdict != nil {
		ev1.Verdicts = append([]Verdict{*refVerdict}, ev1.Verdicts...)
	}
	res.Evaluation = ev1
	if failed := ev1.Failed(); len(failed) > 0 {
		res.Status = "refused"
		return fail(&RefusedError{Subject: src.String(), Failed: failed})
	}

	copied, err := Copy(ctx, src, dst, opts...)
	if err != nil {
		return fail(err)
	}
	res.Copied = copied
	target := dst.Digest(src.DigestStr())
	res.Destination = target.String()

	// Signatures and attestations must verify at the destination exactly as
	// at the source. The scan is not repeated: same digest, same content.
	recheck := req.Policy
	off := false
	recheck.Scan.Required = &off
	ev2, err := ev.Evaluate(ctx, target, recheck)
	if err != nil {
		return fail(fmt.Errorf("evaluate %s after the copy: %w", target, err))
	}
	res.DestinationEvaluation = ev2
	if failed := ev2.Failed(); len(failed) > 0 {
		return fail(fmt.Errorf("%s does not verify after the copy (no tag set): %w", target, &RefusedError{Subject: target.String(), Failed: failed}))
	}

	desc, err := remote.Get(target, opts...)
	if err != nil {
		return fail(fmt.Errorf("read back %s: %w", target, err))
	}
	for _, t := range tags {
		if err := remote.Tag(t, desc, opts...); err != nil {
			return fail(fmt.Errorf("tag %s: %w", t, err))
		}
		res.Tags = append(res.Tags, t.String())
	}

	dep := &Deployment{
		Environment: req.Policy.Environment,
		Service:     req.Service,
		Artifact:    ArtifactID(target),
		Digest:      target.DigestStr(),
		Time:        time.Now().UTC(),
	}
	if dep.Service == "" {
		dep.Service = path.Base(dst.RepositoryStr())
	}
	if p := ev1.Provenance; p != nil {
		dep.Repository, dep.Commit = p.Repository, p.Commit
	}
	if req.GitOps != nil {
		g, err := req.GitOps.bump(ctx, target, req.Tags, dep, opts)
		res.GitOps = g
		if err != nil {
			return fail(fmt.Errorf("promoted %s, but the GitOps bump failed: %w", target, err))
		}
	}
	if len(dep.Commits) == 0 && dep.Commit != "" {
		c := Commit{SHA: dep.Commit}
		if req.SourceDir != "" {
			info, err := commitInfo(ctx, req.SourceDir, dep.Commit)
			if err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("commit %.12s in %s: %v", dep.Commit, req.SourceDir, err))
			} else {
				c = info
			}
		}
		dep.Commits = []Commit{c}
	}
	res.Deployment = dep
	res.Status = "promoted"
	return res, nil
}

// Resolve turns a --from reference into a digest. A tag given with a digest
// must still point at that digest: the verdict says whether it does. A tag
// alone is resolved once, and everything after uses that digest.
func Resolve(ctx context.Context, from string, opts ...remote.Option) (name.Digest, *Verdict, error) {
	opts = registry.Options(ctx, opts...)
	base, digest, hasDigest := strings.Cut(from, "@")
	if hasDigest {
		d, err := name.NewDigest(from)
		if err != nil {
			return name.Digest{}, nil, &PolicyError{Field: "--from", Msg: err.Error()}
		}
		tag, err := name.NewTag(base, name.StrictValidation)
		if err != nil {
			// No tag: the digest is the whole truth.
			return d, nil, nil
		}
		desc, err := remote.Head(tag, opts...)
		if err != nil {
			if notFound(err) {
				return d, &Verdict{Rule: RuleReference, Detail: fmt.Sprintf("tag %s does not exist", tag)}, nil
			}
			return name.Digest{}, nil, fmt.Errorf("resolve %s: %w", tag, err)
		}
		if desc.Digest.String() != digest {
			return d, &Verdict{Rule: RuleReference, Detail: fmt.Sprintf("tag %s now points at %s, not the %s given", tag.TagStr(), desc.Digest, digest)}, nil
		}
		return d, &Verdict{Rule: RuleReference, Passed: true, Detail: fmt.Sprintf("tag %s points at %s", tag.TagStr(), digest)}, nil
	}
	ref, err := name.NewTag(from, name.StrictValidation)
	if err != nil {
		return name.Digest{}, nil, &PolicyError{Field: "--from", Msg: fmt.Sprintf("%s: want REPO@sha256:… or REPO:TAG: %v", from, err)}
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return name.Digest{}, nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	d := ref.Context().Digest(desc.Digest.String())
	return d, &Verdict{Rule: RuleReference, Passed: true, Detail: fmt.Sprintf("tag %s resolved to %s; pin the digest to promote exactly what was reviewed", ref.TagStr(), desc.Digest)}, nil
}

// ArtifactID is the package URL CDEvents use for an OCI artifact:
// pkg:oci/<name>@sha256:<hex>?repository_url=<registry>/<path>.
func ArtifactID(d name.Digest) string {
	repo := d.Context()
	return fmt.Sprintf("pkg:oci/%s@%s?repository_url=%s", path.Base(repo.RepositoryStr()),
		d.DigestStr(), repo.RegistryStr()+"/"+repo.RepositoryStr())
}
