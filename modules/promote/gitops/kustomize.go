package gitops

import (
	"errors"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// ErrImageNotFound is wrapped by the errors that say the overlay has no
// place for the image: a kustomization without an entry for it when no
// image name was given to add one, or Helm values without the path.
var ErrImageNotFound = errors.New("image not found in the overlay")

// SetKustomizeImage pins img in the images: list of a kustomization file.
//
// The entry changed is the one whose name is name or, when name is "",
// the one whose name or newName is img.Repository; exactly one entry must
// match. It gets digest: img.Digest:
//
//   - an existing digest: value is replaced;
//   - otherwise a newTag: line becomes the digest: line (kustomize would
//     render a tag next to a digest as tag@digest, and the tag would then
//     name the old build);
//   - otherwise a digest: line is added after the entry's last field.
//
// When no entry matches and name is given, an entry is added, as
// kustomize edit set image does: name, newName (when name is not
// img.Repository) and digest, appended to the images: list, or under a
// new images: key at the end of the file when there is none. Those lines
// are the whole diff (see addKustomizeImage). With name "" and no match,
// the error wraps ErrImageNotFound: the caller can find the name the
// bases use (BaseImages) and try again with it.
//
// Each is a one-line change. When the entry would render another
// repository than img.Repository (its newName, or its name when it has no
// newName, differs), newName is set too: that is a second line, and the
// only case with one. A newTag beside an existing digest is left alone:
// the digest decides what runs.
func SetKustomizeImage(data []byte, name string, img Image) (*Edit, error) {
	if err := img.Validate(); err != nil {
		return nil, err
	}
	d, err := parse(data)
	if err != nil {
		return nil, err
	}
	_, images, err := field(d.root, "images")
	if err != nil {
		return nil, err
	}
	if images != nil && images.Kind != yaml.SequenceNode && (images.Kind != yaml.ScalarNode || images.ShortTag() != "!!null") {
		return nil, fmt.Errorf("line %d: images: is a %s, not a list", images.Line, kindName(images))
	}
	want := "name or newName " + img.Repository
	if name != "" {
		want = "name " + name
	}
	var entry *yaml.Node
	var entries []*yaml.Node
	if images != nil && images.Kind == yaml.SequenceNode {
		entries = images.Content
	}
	for _, e := range entries {
		if e.Kind != yaml.MappingNode {
			continue
		}
		if !kustomizeMatch(e, name, img.Repository) {
			continue
		}
		if entry != nil {
			return nil, fmt.Errorf("images: entries on lines %d and %d both have %s; which one to pin is ambiguous", entry.Line, e.Line, want)
		}
		entry = e
	}
	if entry == nil {
		if name == "" {
			if images == nil {
				return nil, fmt.Errorf("%w: there is no images: list to pin %s in, and no image name to add an entry for", ErrImageNotFound, img.Repository)
			}
			return nil, fmt.Errorf("%w: no images: entry has %s, and no image name to add an entry for", ErrImageNotFound, want)
		}
		return addKustomizeImage(d, images, name, img)
	}

	var f [4]struct{ k, v *yaml.Node }
	for i, key := range []string{"name", "newName", "newTag", "digest"} {
		if f[i].k, f[i].v, err = field(entry, key); err != nil {
			return nil, err
		}
	}
	nameF, newNameF, tagF, digestF := f[0], f[1], f[2], f[3]
	oldRepo := text(newNameF.v)
	if oldRepo == "" {
		oldRepo = text(nameF.v)
	}
	edit := &Edit{
		OldRef: joinRef(oldRepo, text(tagF.v), text(digestF.v)),
		NewRef: img.Ref(),
	}

	if oldRepo != img.Repository {
		if newNameF.k != nil {
			err = d.setScalar(newNameF.v, newNameF.k, img.Repository)
		} else {
			err = d.addPair(entry, "newName", img.Repository)
		}
		if err != nil {
			return nil, fmt.Errorf("set newName: %w", err)
		}
	}
	switch {
	case digestF.k != nil:
		if text(digestF.v) != img.Digest {
			err = d.setScalar(digestF.v, digestF.k, img.Digest)
		}
	case tagF.k != nil:
		if text(tagF.v) != "" && tagF.v.Line != tagF.k.Line {
			return nil, fmt.Errorf("line %d: newTag's value is not on its key's line; cannot turn it into digest: in place", tagF.k.Line)
		}
		// The value first: an empty one is found from its key's text,
		// which renaming changes in the tree.
		if err = d.setScalar(tagF.v, tagF.k, img.Digest); err == nil {
			err = d.renameKey(tagF.k, "digest")
		}
	default:
		err = d.addPair(entry, "digest", img.Digest)
	}
	if err != nil {
		return nil, fmt.Errorf("set digest: %w", err)
	}
	return d.result(edit)
}

// kustomizeMatch says whether images: entry e is the one to pin.
func kustomizeMatch(e *yaml.Node, name, repo string) bool {
	keys := []string{"name", "newName"}
	if name != "" {
		keys, repo = keys[:1], name
	}
	// Only the keys that identify the entry are read here: a merge key or
	// a duplicate in an unrelated entry is not this bump's business (it
	// is an error in the entry that matches).
	for i := 0; i+1 < len(e.Content); i += 2 {
		if k := e.Content[i]; k.Kind == yaml.ScalarNode && slices.Contains(keys, k.Value) && text(e.Content[i+1]) == repo {
			return true
		}
	}
	return false
}

// result finishes an edit: applies and checks the planned splices, if any.
func (d *document) result(e *Edit) (*Edit, error) {
	if len(d.splices) == 0 {
		e.Output = d.src
		return e, nil
	}
	out, err := d.apply()
	if err != nil {
		return nil, err
	}
	e.Output, e.Changed = out, true
	return e, nil
}
