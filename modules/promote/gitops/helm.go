package gitops

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultHelmPath is where charts conventionally keep their image.
const DefaultHelmPath = "image"

// SetHelmImage pins img in a Helm values file at path: dotted keys, with
// numbers indexing lists (sidecars.0.image); "" means DefaultHelmPath.
//
// What is at path decides what changes, always one line:
//
//   - a reference string (image: ghcr.io/acme/api:1.2) becomes
//     img.Repository@img.Digest, or img.Repository:img.Tag@img.Digest
//     when img.Tag is set;
//   - a mapping with a digest key (the common repository/tag/digest
//     convention, where a digest overrides the tag) gets the digest there;
//   - a mapping with a tag key only gets tag: img.Tag@img.Digest, which
//     the usual "{{ .repository }}:{{ .tag }}" template renders as
//     repo:tag@digest, pulled by digest. That needs img.Tag: writing the
//     old tag next to the new digest would name the wrong build.
//
// The values file has no name to match the image by, so its repository
// (repository:, joined to registry: when there is one) is a check rather
// than a target: it must be img.Repository when present.
func SetHelmImage(data []byte, path string, img Image) (*Edit, error) {
	if err := img.Validate(); err != nil {
		return nil, err
	}
	if path == "" {
		path = DefaultHelmPath
	}
	d, err := parse(data)
	if err != nil {
		return nil, err
	}
	key, n, err := lookup(d.root, path)
	if err != nil {
		return nil, err
	}
	edit := &Edit{NewRef: img.Ref()}

	if n.Kind == yaml.SequenceNode {
		return nil, fmt.Errorf("%w: %s is a list, not an image", ErrImageNotFound, path)
	}
	if n.Kind != yaml.MappingNode {
		old := text(n)
		repo, tag, digest := splitRef(old)
		if repo != img.Repository {
			return nil, fmt.Errorf("%w: %s is %q, not an image of %s", ErrImageNotFound, path, old, img.Repository)
		}
		edit.OldRef = old
		if digest != img.Digest {
			edit.NewRef = joinRef(img.Repository, img.Tag, img.Digest)
			if err := d.setScalar(n, key, edit.NewRef); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		} else if tag != "" {
			edit.NewRef = old
		}
		return d.result(edit)
	}

	var f [4]struct{ k, v *yaml.Node }
	for i, key := range []string{"registry", "repository", "tag", "digest"} {
		if f[i].k, f[i].v, err = field(n, key); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	registryF, repoF, tagF, digestF := f[0], f[1], f[2], f[3]
	repo := img.Repository
	if repoF.k != nil {
		repo = text(repoF.v)
		if reg := text(registryF.v); reg != "" {
			repo = reg + "/" + repo
		}
		if repo != img.Repository {
			return nil, fmt.Errorf("%w: %s.repository is %q, not %s", ErrImageNotFound, path, repo, img.Repository)
		}
	}
	oldTag, tagDigest, _ := strings.Cut(text(tagF.v), "@")
	oldDigest := text(digestF.v)
	if oldDigest == "" {
		oldDigest = tagDigest
	}
	edit.OldRef = joinRef(repo, oldTag, oldDigest)

	switch {
	case digestF.k != nil:
		if text(digestF.v) != img.Digest {
			err = d.setScalar(digestF.v, digestF.k, img.Digest)
		}
	case tagF.k != nil:
		if tagDigest == img.Digest {
			edit.NewRef = edit.OldRef
			break
		}
		if img.Tag == "" {
			return nil, fmt.Errorf("%s pins a tag only, and no promoted tag was given to write as tag@digest; add %s.digest to the values (and the chart) or give the tag", path, path)
		}
		edit.NewRef = joinRef(img.Repository, img.Tag, img.Digest)
		err = d.setScalar(tagF.v, tagF.k, img.Tag+"@"+img.Digest)
	default:
		return nil, fmt.Errorf("%w: %s has neither a digest nor a tag key to pin %s with", ErrImageNotFound, path, img.Repository)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d.result(edit)
}

// lookup walks path from root and returns the node there and the key
// node naming it (nil when the last step is a list index).
func lookup(root *yaml.Node, path string) (key, n *yaml.Node, err error) {
	n = root
	steps := strings.Split(path, ".")
	for i, step := range steps {
		at := strings.Join(steps[:i+1], ".")
		if step == "" {
			return nil, nil, fmt.Errorf("values path %q has an empty step", path)
		}
		switch n.Kind {
		case yaml.MappingNode:
			k, v, err := field(n, step)
			if err != nil {
				return nil, nil, err
			}
			if k == nil {
				return nil, nil, fmt.Errorf("%w: the values have no %s", ErrImageNotFound, at)
			}
			key, n = k, v
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(step)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return nil, nil, fmt.Errorf("%w: the values have no %s (a list of %d)", ErrImageNotFound, at, len(n.Content))
			}
			key, n = nil, n.Content[idx]
		default:
			return nil, nil, fmt.Errorf("%w: the values have no %s (line %d is a %s)", ErrImageNotFound, at, n.Line, kindName(n))
		}
	}
	if n.Kind == yaml.AliasNode {
		return nil, nil, fmt.Errorf("line %d: %s is an alias (*%s); pin the image where the anchor is", n.Line, path, n.Value)
	}
	return key, n, nil
}
