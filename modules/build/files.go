package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// KoDataDir is the directory beside a main package whose files land in the
// image at KoDataPath, as ko lays them; the image's KO_DATA_PATH names it.
const (
	KoDataDir  = "kodata"
	KoDataPath = "/var/run/ko"
)

// FileGlob puts files of the service into the image.
type FileGlob struct {
	// Source is a glob relative to Options.Dir, in path.Match syntax with
	// forward slashes; a directory it matches is taken whole.
	Source string `json:"src"`
	// Dest is an absolute path in the image. It is a directory, holding
	// each match under its base name, when it ends in "/", when the glob
	// matches more than one file, or when it matches a directory.
	Dest string `json:"dst"`
	// Mode sets the permission bits of every file; 0 keeps 0755 for an
	// executable source and 0644 for any other.
	Mode fs.FileMode `json:"mode,omitempty"`
}

// StaticFile is one file the image gets from the service's directory.
type StaticFile struct {
	Path   string      // in the image, absolute
	Source string      // relative to Options.Dir, slash-separated
	Mode   fs.FileMode // permission bits
	Size   int64
}

// StaticFiles lists, sorted by image path, the files that Go lays from
// the service's directory: every main package's kodata/ under KoDataPath,
// then Files. Sources are read through an os.Root on Options.Dir, so a
// symbolic link that leads out of the service is an error, never a way to
// put the host's files into an image. The step cache keys on this list
// and the files' contents.
func StaticFiles(opts Options) ([]StaticFile, error) {
	o := opts
	if o.Dir == "" {
		o.Dir = "."
	}
	if len(o.Binaries) == 0 {
		main := o.Main
		if main == "" {
			main = "."
		}
		o.Binaries = []Binary{{Main: main}}
	}
	root, err := os.OpenRoot(o.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := root.FS()

	byPath := map[string]StaticFile{}
	add := func(origin string, f StaticFile) error {
		if prev, ok := byPath[f.Path]; ok && prev.Source != f.Source {
			return fmt.Errorf("%s: %s would be both %s and %s", origin, f.Path, prev.Source, f.Source)
		}
		byPath[f.Path] = f
		return nil
	}

	for _, b := range o.Binaries {
		kd := path.Join(filepath.ToSlash(filepath.Clean(b.Main)), KoDataDir)
		if !fs.ValidPath(kd) {
			// A main outside the service: its kodata is out of reach.
			if _, err := os.Stat(filepath.Join(o.Dir, b.Main, KoDataDir)); err == nil {
				return nil, fmt.Errorf("%s: outside %s, which static files must come from", filepath.Join(b.Main, KoDataDir), o.Dir)
			}
			continue
		}
		info, err := fs.Stat(fsys, kd)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kd, err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("%s: not a directory", kd)
		}
		// ko's modes: readable and executable by all, whatever the checkout's umask.
		err = walkFiles(fsys, kd, func(src string, size int64, _ fs.FileMode) error {
			rel := strings.TrimPrefix(src, kd+"/")
			return add(kd, StaticFile{Path: KoDataPath + "/" + rel, Source: src, Mode: 0o555, Size: size})
		})
		if err != nil {
			return nil, err
		}
	}

	for i, f := range o.Files {
		field := fmt.Sprintf("files[%d]", i)
		if err := ValidFile(f); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		matches, err := fs.Glob(fsys, f.Source)
		if err != nil {
			return nil, fmt.Errorf("%s.src %q: %w", field, f.Source, err)
		}
		if len(matches) == 0 {
			if _, err := fs.Stat(fsys, f.Source); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s.src: %w", field, err)
			}
			return nil, fmt.Errorf("%s.src %q: matches no file in %s", field, f.Source, o.Dir)
		}
		asDir := strings.HasSuffix(f.Dest, "/") || len(matches) > 1
		for _, m := range matches {
			info, err := fs.Stat(fsys, m)
			if err != nil {
				return nil, fmt.Errorf("%s.src: %s: %w", field, m, err)
			}
			prefix := path.Base(m) + "/"
			if !asDir && info.IsDir() {
				prefix = "" // dst: /srv/www takes www's content
			}
			dest := path.Clean(f.Dest)
			err = walkFiles(fsys, m, func(src string, size int64, mode fs.FileMode) error {
				p := dest
				if asDir || info.IsDir() {
					rel := path.Base(src)
					if info.IsDir() {
						rel = prefix + strings.TrimPrefix(src, m+"/")
					}
					p = path.Join(dest, rel)
				}
				return add(field, StaticFile{Path: p, Source: src, Mode: fileMode(f.Mode, mode), Size: size})
			})
			if err != nil {
				return nil, fmt.Errorf("%s.src: %w", field, err)
			}
		}
	}

	out := make([]StaticFile, 0, len(byPath))
	for _, f := range byPath {
		for dir := path.Dir(f.Path); dir != "/"; dir = path.Dir(dir) {
			if d, ok := byPath[dir]; ok {
				return nil, fmt.Errorf("%s is a file (from %s), and %s would be inside it", dir, d.Source, f.Path)
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ValidFile checks what a File says without reading the service.
func ValidFile(f FileGlob) error {
	if strings.TrimSpace(f.Source) == "" {
		return errors.New("src: a glob of files in the service is needed, such as static/*")
	}
	if !fs.ValidPath(strings.TrimSuffix(f.Source, "/")) {
		return fmt.Errorf("src: %q: want a path inside the service, slash-separated, without . or .. elements", f.Source)
	}
	if _, err := path.Match(f.Source, ""); err != nil {
		return fmt.Errorf("src: %q: %w", f.Source, err)
	}
	if !path.IsAbs(f.Dest) {
		return fmt.Errorf("dst: %q: want an absolute path in the image, such as /srv/static/", f.Dest)
	}
	if path.Clean(f.Dest) == "/" {
		return fmt.Errorf("dst: %q: name a directory below /", f.Dest)
	}
	if strings.ContainsAny(f.Dest, "\x00\\") {
		return fmt.Errorf("dst: %q: holds a NUL or a backslash", f.Dest)
	}
	if f.Mode&^fs.ModePerm != 0 {
		return fmt.Errorf("mode: %#o: only permission bits (0 to 0777) may be set", uint32(f.Mode))
	}
	return nil
}

// fileMode is the mode asked for, else 0755 or 0644 by the source's owner
// execute bit: the checkout's umask and group bits never reach the image.
func fileMode(asked, src fs.FileMode) fs.FileMode {
	switch {
	case asked != 0:
		return asked
	case src&0o100 != 0:
		return 0o755
	}
	return 0o644
}

// walkFiles calls fn for every regular file at or under name, in lexical
// order, following symbolic links to files (inside the root). A link to a
// directory is an error: following it could loop.
func walkFiles(fsys fs.FS, name string, fn func(src string, size int64, mode fs.FileMode) error) error {
	return fs.WalkDir(fsys, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := fs.Stat(fsys, p) // follows links, within the root
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		switch {
		case info.IsDir():
			return fmt.Errorf("%s: a link to a directory; link the files instead", p)
		case !info.Mode().IsRegular():
			return fmt.Errorf("%s: not a regular file", p)
		}
		return fn(p, info.Size(), info.Mode())
	})
}

// staticEntries are the layer entries for files, read from dir.
func staticEntries(dir string, files []StaticFile) []entry {
	es := make([]entry, len(files))
	for i, f := range files {
		src := f.Source
		es[i] = entry{name: strings.TrimPrefix(f.Path, "/"), mode: int64(f.Mode), size: f.Size,
			open: func() (io.ReadCloser, error) {
				root, err := os.OpenRoot(dir)
				if err != nil {
					return nil, err
				}
				defer root.Close()
				return root.Open(src)
			}}
	}
	return es
}
