package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// BaseImage is an image that the workloads of an overlay's bases run, as
// kustomize's images: entries match it.
type BaseImage struct {
	// Name is the image without tag or digest, as the workloads write it
	// (after the images: entries of the bases themselves): what an
	// images: entry's name must be to change it.
	Name string
	// Refs are the references the workloads write, with their tags and
	// digests, sorted.
	Refs []string
}

// BaseImages lists the images that the workloads built by the
// kustomization in dir run, the way kustomize's image transformer sees
// them: every image of a list named containers or initContainers, at any
// depth, in every resource but CustomResourceDefinitions. It reads the
// resources (and bases) and components of the kustomization, recursively,
// applying each base's own images: entries to what it builds; the
// kustomization in dir itself is not applied, since its images: list is
// what is being edited. Patches are not read.
//
// Resources that cannot be read here (remote ones, paths outside fsys,
// symbolic links) are listed in unread: the images may then be
// incomplete.
func BaseImages(fsys fs.FS, dir string) (images []BaseImage, unread []string, err error) {
	w := &baseWalker{fsys: fsys, seen: map[string]bool{}}
	refs, err := w.kustomization(dir, false)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string][]string{}
	for _, r := range refs {
		n, _, _ := splitRef(r)
		if !slices.Contains(byName[n], r) {
			byName[n] = append(byName[n], r)
		}
	}
	for n, rs := range byName {
		sort.Strings(rs)
		images = append(images, BaseImage{Name: n, Refs: rs})
	}
	sort.Slice(images, func(i, j int) bool { return images[i].Name < images[j].Name })
	return images, w.unread, nil
}

// maxBaseFiles bounds how many files a walk reads: overlays have a few.
const maxBaseFiles = 2000

type baseWalker struct {
	fsys   fs.FS
	seen   map[string]bool // kustomization directories on the current path
	files  int
	unread []string
}

// kustomizationFile is the part of a kustomization the walk reads.
type kustomizationFile struct {
	Resources  []string         `yaml:"resources"`
	Bases      []string         `yaml:"bases"`
	Components []string         `yaml:"components"`
	Images     []kustomizeEntry `yaml:"images"`
}

type kustomizeEntry struct {
	Name    string `yaml:"name"`
	NewName string `yaml:"newName"`
	NewTag  string `yaml:"newTag"`
	Digest  string `yaml:"digest"`
}

// readKustomization reads the kustomization file of directory dir.
func (w *baseWalker) readKustomization(dir string) (*kustomizationFile, string, error) {
	for _, n := range kustomizationNames {
		p := path.Join(dir, n)
		data, err := w.read(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, p, err
		}
		var k kustomizationFile
		if err := yaml.Unmarshal(data, &k); err != nil {
			return nil, p, fmt.Errorf("%s: %w", p, err)
		}
		return &k, p, nil
	}
	return nil, "", fmt.Errorf("%s: no kustomization file (%s)", dir, strings.Join(kustomizationNames, ", "))
}

func (w *baseWalker) read(p string) ([]byte, error) {
	if w.files++; w.files > maxBaseFiles {
		return nil, fmt.Errorf("the bases hold more than %d files", maxBaseFiles)
	}
	return fs.ReadFile(w.fsys, p)
}

// kustomization is what the kustomization in dir builds: the image
// references of its workloads, after its own images: entries when apply.
func (w *baseWalker) kustomization(dir string, apply bool) ([]string, error) {
	if w.seen[dir] {
		return nil, fmt.Errorf("%s includes itself", dir)
	}
	w.seen[dir] = true
	defer delete(w.seen, dir)
	k, _, err := w.readKustomization(dir)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, r := range append(slices.Clone(k.Resources), k.Bases...) {
		got, err := w.resource(dir, r)
		if err != nil {
			return nil, err
		}
		refs = append(refs, got...)
	}
	// A component's resources join the parent's, and its transformers
	// apply to everything the parent has so far.
	for _, c := range k.Components {
		p, ok := w.local(dir, c)
		if !ok {
			continue
		}
		ck, _, err := w.readKustomization(p)
		if err != nil {
			return nil, err
		}
		got, err := w.kustomization(p, false)
		if err != nil {
			return nil, err
		}
		refs = transform(append(refs, got...), ck.Images)
	}
	if apply {
		refs = transform(refs, k.Images)
	}
	return refs, nil
}

// local resolves resource r of the kustomization in dir to a path in the
// file system, or records it as unread.
func (w *baseWalker) local(dir, r string) (string, bool) {
	p := path.Join(dir, r)
	if strings.Contains(r, "://") || strings.HasPrefix(r, "git@") || !fs.ValidPath(p) {
		w.unread = append(w.unread, r)
		return "", false
	}
	if _, err := fs.Stat(w.fsys, p); err != nil {
		// Not here: kustomize would try it as a remote base.
		w.unread = append(w.unread, r)
		return "", false
	}
	return p, true
}

// resource is the image references of resource r: a kustomization
// directory or a file of manifests.
func (w *baseWalker) resource(dir, r string) ([]string, error) {
	p, ok := w.local(dir, r)
	if !ok {
		return nil, nil
	}
	info, err := fs.Stat(w.fsys, p)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return w.kustomization(p, true)
	}
	data, err := w.read(p)
	if errors.Is(err, errSymlink) {
		w.unread = append(w.unread, r)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	refs, err := workloadImages(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return refs, nil
}

// workloadImages lists the images of the containers and initContainers
// lists in a stream of manifests.
func workloadImages(data []byte) ([]string, error) {
	var refs []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		err := dec.Decode(&doc)
		if err == io.EOF {
			return refs, nil
		}
		if err != nil {
			return nil, err
		}
		if m, ok := doc.(map[string]any); ok && m["kind"] == "CustomResourceDefinition" {
			continue
		}
		refs = containerImages(doc, refs)
	}
}

func containerImages(v any, refs []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedMapKeys(v) {
			if list, ok := v[k].([]any); ok && (k == "containers" || k == "initContainers") {
				for _, c := range list {
					if c, ok := c.(map[string]any); ok {
						if img, ok := c["image"].(string); ok && img != "" {
							refs = append(refs, img)
						}
					}
				}
			}
			refs = containerImages(v[k], refs)
		}
	case []any:
		for _, e := range v {
			refs = containerImages(e, refs)
		}
	}
	return refs
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// transform applies images: entries to image references, in order, as
// kustomize does: an entry matches a reference whose name is its name,
// whatever the tag or digest; newName replaces the name, digest (or else
// newTag) the tag and digest.
func transform(refs []string, entries []kustomizeEntry) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		for _, e := range entries {
			name, tag, digest := splitRef(r)
			if e.Name == "" || name != e.Name {
				continue
			}
			if e.NewName != "" {
				name = e.NewName
			}
			switch {
			case e.Digest != "":
				tag, digest = "", e.Digest
			case e.NewTag != "":
				tag, digest = e.NewTag, ""
			}
			r = joinRef(name, tag, digest)
		}
		out[i] = r
	}
	return out
}

// ImageNameError says which images: entry name to add could not be
// settled: the bases run several images (or none) and none is plainly the
// promoted one, or the name given is not one they run. Candidates are the
// names the bases run that no images: entry of the overlay names yet.
type ImageNameError struct {
	File       string // the overlay
	Repository string // the promoted repository
	Name       string // the name given, if one was
	Candidates []string
	Unread     []string // resources not read (remote, outside the checkout, links)
}

// Unwrap is ErrImageNotFound when no name was given: the overlay has no
// entry for the image and paved could not tell which one to add.
func (e *ImageNameError) Unwrap() error {
	if e.Name == "" {
		return ErrImageNotFound
	}
	return nil
}

func (e *ImageNameError) Error() string {
	var b strings.Builder
	if e.Name != "" {
		fmt.Fprintf(&b, "overlay %s: no workload in its bases runs image %s, so an images: entry for it would change nothing", e.File, e.Name)
	} else {
		fmt.Fprintf(&b, "overlay %s has no images: entry for %s, and ", e.File, e.Repository)
		switch len(e.Candidates) {
		case 0:
			b.WriteString("no workload in its bases runs an image to add one for")
		case 1:
			b.WriteString("its bases could not all be read to be sure which image they run")
		default:
			b.WriteString("its bases run several images")
		}
		b.WriteString("; name the image the bases use")
	}
	if len(e.Candidates) > 0 {
		fmt.Fprintf(&b, " (they run: %s)", strings.Join(e.Candidates, ", "))
	}
	if len(e.Unread) > 0 {
		fmt.Fprintf(&b, " (not read: %s)", strings.Join(e.Unread, ", "))
	}
	return b.String()
}

// baseImageName settles the images: entry name to add to overlay file
// (data at fsys's file) for img: name when given, which the bases must
// run if they could all be read, or else the one image the bases run that
// no entry names yet; among several, the one named as the promoted
// repository, or else the only one whose last path element is the
// repository's. With resources left unread, only the first rule applies.
// It returns the name and the references the workloads write for it.
func baseImageName(fsys fs.FS, file string, data []byte, name string, img Image) (string, []string, error) {
	images, unread, err := BaseImages(fsys, path.Dir(file))
	if err != nil {
		return "", nil, fmt.Errorf("overlay %s: reading its bases: %w", file, err)
	}
	var k kustomizationFile
	_ = yaml.Unmarshal(data, &k) // it parsed already; a field of another type only hides entries
	var candidates []BaseImage
	for _, bi := range images {
		if !slices.ContainsFunc(k.Images, func(e kustomizeEntry) bool { return e.Name == bi.Name }) {
			candidates = append(candidates, bi)
		}
	}
	nameErr := &ImageNameError{File: file, Repository: img.Repository, Name: name, Unread: unread}
	for _, c := range candidates {
		nameErr.Candidates = append(nameErr.Candidates, c.Name)
	}
	pick := func(ok func(BaseImage) bool) (BaseImage, bool) {
		var found []BaseImage
		for _, c := range candidates {
			if ok(c) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			return found[0], true
		}
		return BaseImage{}, false
	}
	if name != "" {
		if c, ok := pick(func(c BaseImage) bool { return c.Name == name }); ok {
			return name, c.Refs, nil
		}
		if len(unread) > 0 {
			return name, nil, nil // cannot tell; kustomize build will
		}
		return "", nil, nameErr
	}
	if c, ok := pick(func(c BaseImage) bool { return c.Name == img.Repository }); ok {
		return c.Name, c.Refs, nil
	}
	if len(unread) > 0 {
		return "", nil, nameErr
	}
	if len(candidates) == 1 {
		return candidates[0].Name, candidates[0].Refs, nil
	}
	if c, ok := pick(func(c BaseImage) bool { return path.Base(c.Name) == path.Base(img.Repository) }); ok {
		return c.Name, c.Refs, nil
	}
	return "", nil, nameErr
}
