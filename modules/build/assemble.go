package build

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Assembly describes an image made by laying files onto a base, with no
// compiler and no daemon: the golden paths for interpreted languages
// (TypeScript, Python) and static sites build theirs with it.
type Assembly struct {
	Base      Base          // default Minimal()
	Platforms []v1.Platform // default DefaultPlatforms
	// Layers go onto the base in this order. Put what changes least
	// first (dependencies) and the application last: a registry already
	// holds every layer that did not change, so a one-line change to the
	// application uploads only the application's layer.
	Layers     []Layer
	Entrypoint []string
	Cmd        []string
	WorkingDir string   // default "/"
	Env        []string // KEY=VALUE, over the base's variables of the same name
	// User runs the entrypoint; default "65532:65532", the nonroot user
	// of paved's minimal base and of distroless images.
	User        string
	Created     time.Time         // every timestamp in the image; zero means the Unix epoch
	Annotations map[string]string // extra OCI annotations on the index and each manifest
}

// Layer is one layer of files. Files are owned by root and readable by
// all, so the nonroot user can run the application but not change it.
type Layer struct {
	// Name says what the layer holds ("dependencies", "application");
	// the image's history records it.
	Name  string
	Trees []Tree
	Files []File
	// Platform, when set, puts the layer in that platform's image only:
	// a binary compiled for it, dependencies installed for it. A layer
	// without one is shared by every platform, so its native code (ELF
	// files) must exist for each of them or Assemble refuses it.
	Platform *v1.Platform
}

// Tree is a directory on disk laid under Dest in the image, with its
// regular files, directories and symbolic links.
type Tree struct {
	Src  string // directory on disk
	Dest string // absolute directory in the image, such as /app
	// Skip, when set, leaves out what it returns true for; rel is
	// slash-separated and relative to Src. A skipped directory is not
	// entered.
	Skip func(rel string, d fs.DirEntry) bool
}

// File is one file in the image, from disk (Src) or from bytes (Data).
type File struct {
	Path string // absolute path in the image
	Src  string
	Data []byte
	// Mode is the permission bits; zero gives 0644, or 0755 when Src is
	// executable.
	Mode fs.FileMode
}

// DefaultUser is the user an Assembly runs as unless it names another.
var DefaultUser = fmt.Sprintf("%d:%d", nonrootID, nonrootID)

// Assemble lays the assembly's layers onto its base for every platform and
// returns an OCI image index with one image per platform, in the order of
// Platforms. The same files, base and fields give the same index digest:
// entries are sorted, owners and modes fixed, and every time is Created.
//
// Shared layers are built once and reused by every platform. When one of
// them holds native code for fewer architectures than the assembly's
// platforms, Assemble returns a *NativeCodeError naming the package and
// the file.
func Assemble(ctx context.Context, a Assembly) (v1.ImageIndex, error) {
	a, err := a.withDefaults()
	if err != nil {
		return nil, err
	}
	baseDigest, err := a.Base.Digest(ctx)
	if err != nil {
		return nil, err
	}
	shared := make([]v1.Layer, len(a.Layers))
	for i, l := range a.Layers {
		if l.Platform != nil {
			continue
		}
		entries, native, err := l.entries()
		if err != nil {
			return nil, err
		}
		if err := checkNative(native, a.Platforms); err != nil {
			return nil, err
		}
		if shared[i], err = newLayer(entries, a.Created); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
	}
	anns := imageAnnotations(a.Annotations, a.Created, a.Base.Name(), baseDigest)
	adds := make([]mutate.IndexAddendum, len(a.Platforms))
	for i, p := range a.Platforms {
		img, err := a.image(ctx, p, shared, anns)
		if err != nil {
			return nil, err
		}
		adds[i] = mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &p}}
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return mutate.Annotations(idx, anns).(v1.ImageIndex), nil
}

func (a Assembly) withDefaults() (Assembly, error) {
	if a.Base == nil {
		a.Base = Minimal()
	}
	if len(a.Platforms) == 0 {
		a.Platforms = DefaultPlatforms
	}
	seen := map[string]bool{}
	for _, p := range a.Platforms {
		if p.OS == "" || p.Architecture == "" {
			return a, fmt.Errorf("platform %q: os and architecture are required", p.String())
		}
		if seen[p.String()] {
			return a, fmt.Errorf("platform %s listed twice", p.String())
		}
		seen[p.String()] = true
	}
	if a.Created.IsZero() {
		a.Created = epoch
	}
	a.Created = a.Created.UTC().Truncate(time.Second)
	if a.WorkingDir == "" {
		a.WorkingDir = "/"
	}
	if a.User == "" {
		a.User = DefaultUser
	}
	if len(a.Entrypoint) == 0 && len(a.Cmd) == 0 {
		return a, fmt.Errorf("assembly: no entrypoint or cmd: the image would run only what the base says")
	}
	for _, kv := range a.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return a, fmt.Errorf("assembly: env %q is not KEY=VALUE", kv)
		}
	}
	for _, l := range a.Layers {
		if l.Name == "" {
			return a, fmt.Errorf("assembly: every layer needs a name")
		}
	}
	return a, nil
}

// image assembles the image for one platform.
func (a Assembly) image(ctx context.Context, p v1.Platform, shared []v1.Layer, anns map[string]string) (v1.Image, error) {
	created := v1.Time{Time: a.Created}
	var adds []mutate.Addendum
	for i, l := range a.Layers {
		layer := shared[i]
		if l.Platform != nil {
			if !platformMatches(*l.Platform, p) {
				continue
			}
			entries, native, err := l.entries()
			if err != nil {
				return nil, err
			}
			if err := checkNative(native, []v1.Platform{p}); err != nil {
				return nil, err
			}
			if layer, err = newLayer(entries, a.Created); err != nil {
				return nil, fmt.Errorf("layer %s for %s: %w", l.Name, p.String(), err)
			}
		}
		adds = append(adds, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
			History: v1.History{Created: created, CreatedBy: "paved build.Assemble", Comment: l.Name}})
	}
	base, err := a.Base.Image(ctx, p)
	if err != nil {
		return nil, err
	}
	if base, err = toOCI(base); err != nil {
		return nil, fmt.Errorf("base %s for %s: %w", a.Base.Name(), p.String(), err)
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	if p.OSVersion != "" {
		cf.OSVersion = p.OSVersion
	}
	cf.Created = created
	for i, h := range cf.History {
		if h.Created.IsZero() || h.Created.Time.Equal(epoch) {
			cf.History[i].Created = created
		}
	}
	c := &cf.Config
	c.Entrypoint, c.Cmd = a.Entrypoint, a.Cmd
	c.User, c.WorkingDir = a.User, a.WorkingDir
	c.Env = withEnv(withDefaultEnv(c.Env, defaultPath), a.Env)
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	for k, v := range anns {
		c.Labels[k] = v
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return mutate.Annotations(img, anns).(v1.Image), nil
}

// withEnv sets each KEY=VALUE of set in env, replacing a variable of the
// same name in place.
func withEnv(env, set []string) []string {
	out := append([]string(nil), env...)
	for _, s := range set {
		key, _, _ := strings.Cut(s, "=")
		replaced := false
		for i, e := range out {
			if k, _, _ := strings.Cut(e, "="); k == key {
				out[i], replaced = s, true
				break
			}
		}
		if !replaced {
			out = append(out, s)
		}
	}
	return out
}

// entries reads the layer's files, noting the ELF files among them.
func (l Layer) entries() ([]entry, []nativeFile, error) {
	var out []entry
	var native []nativeFile
	fail := func(err error) ([]entry, []nativeFile, error) {
		return nil, nil, fmt.Errorf("layer %s: %w", l.Name, err)
	}
	for _, t := range l.Trees {
		if !path.IsAbs(t.Dest) {
			return fail(fmt.Errorf("tree %s: destination %q is not an absolute path", t.Src, t.Dest))
		}
		info, err := os.Stat(t.Src)
		if err != nil {
			return fail(err)
		}
		if !info.IsDir() {
			return fail(fmt.Errorf("tree %s is not a directory", t.Src))
		}
		err = filepath.WalkDir(t.Src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(t.Src, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if rel != "." && t.Skip != nil && t.Skip(rel, d) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			name := path.Join(t.Dest, rel)
			switch mode := d.Type(); {
			case d.IsDir():
				out = append(out, entry{name: name, dir: true, mode: 0o755})
			case mode&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				out = append(out, entry{name: name, link: filepath.ToSlash(target)})
			case mode.IsRegular():
				info, err := d.Info()
				if err != nil {
					return err
				}
				e := fileEntry(name, p, info, 0)
				if arch, ok, err := elfArch(e); err != nil {
					return err
				} else if ok {
					native = append(native, nativeFile{path: name, arch: arch})
				}
				out = append(out, e)
			default:
				return fmt.Errorf("%s: %s is neither a file, a directory nor a symbolic link", p, mode.Type())
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	for _, f := range l.Files {
		if !path.IsAbs(f.Path) {
			return fail(fmt.Errorf("file path %q is not absolute", f.Path))
		}
		var e entry
		if f.Src != "" {
			info, err := os.Stat(f.Src)
			if err != nil {
				return fail(err)
			}
			if !info.Mode().IsRegular() {
				return fail(fmt.Errorf("%s is not a regular file", f.Src))
			}
			e = fileEntry(f.Path, f.Src, info, f.Mode)
		} else {
			mode := int64(f.Mode.Perm())
			if mode == 0 {
				mode = 0o644
			}
			e = entry{name: f.Path, mode: mode, data: f.Data}
		}
		if arch, ok, err := elfArch(e); err != nil {
			return fail(err)
		} else if ok {
			native = append(native, nativeFile{path: f.Path, arch: arch})
		}
		out = append(out, e)
	}
	return out, native, nil
}

// fileEntry streams a file from disk. Only whether it is executable
// survives of its mode: umasks and checkouts differ between machines.
func fileEntry(name, src string, info fs.FileInfo, mode fs.FileMode) entry {
	m := int64(mode.Perm())
	if m == 0 {
		m = 0o644
		if info.Mode()&0o111 != 0 {
			m = 0o755
		}
	}
	return entry{name: name, mode: m, size: info.Size(), open: func() (io.ReadCloser, error) { return os.Open(src) }}
}
