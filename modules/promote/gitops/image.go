package gitops

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Image is the promoted image an overlay should pin.
type Image struct {
	// Repository is where the promoted image lives, without tag or digest:
	// ghcr.io/acme/api. It is compared with the overlay's names as text
	// (no Docker Hub normalisation: "nginx" is not "docker.io/library/nginx").
	Repository string
	// Digest is the promoted manifest digest: sha256:<64 hex> (or sha512).
	Digest string
	// Tag is the promoted tag, if any. Only Helm values that pin by tag
	// alone use it (tag: "<Tag>@<Digest>", see SetHelmImage); elsewhere
	// the digest says everything.
	Tag string
}

// Ref is the reference the overlay pins after the bump:
// Repository@Digest.
func (i Image) Ref() string { return i.Repository + "@" + i.Digest }

var (
	// The distribution reference grammar, minus what an overlay can't
	// hold anyway. Every accepted value is a safe plain YAML scalar, so it
	// can replace a scalar of any quoting style without escaping.
	component    = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	repositoryRE = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?` + component + `(?:/` + component + `)*$`)
	digestRE     = regexp.MustCompile(`^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
	tagRE        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Validate reports whether the image can be written into an overlay.
func (i Image) Validate() error {
	var errs []error
	if !repositoryRE.MatchString(i.Repository) {
		errs = append(errs, fmt.Errorf("repository %q is not a repository name (want e.g. ghcr.io/acme/api, no tag or digest)", i.Repository))
	}
	if !digestRE.MatchString(i.Digest) {
		errs = append(errs, fmt.Errorf("digest %q is not sha256:<64 hex>", i.Digest))
	}
	if i.Tag != "" && !tagRE.MatchString(i.Tag) {
		errs = append(errs, fmt.Errorf("tag %q is not a valid tag", i.Tag))
	}
	return errors.Join(errs...)
}

// splitRef splits an image reference into repository, tag and digest. It
// does not validate: it only finds the separators.
func splitRef(ref string) (repo, tag, digest string) {
	repo, digest, _ = strings.Cut(ref, "@")
	// A colon after the last slash starts the tag; one before it belongs
	// to a registry port.
	if i := strings.LastIndexByte(repo, ':'); i > strings.LastIndexByte(repo, '/') {
		repo, tag = repo[:i], repo[i+1:]
	}
	return repo, tag, digest
}

// joinRef is splitRef's inverse.
func joinRef(repo, tag, digest string) string {
	s := repo
	if tag != "" {
		s += ":" + tag
	}
	if digest != "" {
		s += "@" + digest
	}
	return s
}

// shortDigest is the digest's algorithm and first 12 hex digits, as
// branch names and commit subjects show it.
func shortDigest(d string) string {
	alg, hex, _ := strings.Cut(d, ":")
	return alg + ":" + hex[:min(len(hex), 12)]
}
