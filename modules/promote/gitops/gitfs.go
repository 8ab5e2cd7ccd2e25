package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// errSymlink is what reading a symbolic link of a commit gives: the walk
// of the bases does not follow links out of the tree it reads.
var errSymlink = errors.New("a symbolic link, not followed")

// treeFS is the files of one commit, read with git ls-tree and cat-file,
// as an fs.FS: so the bases are read as committed, like the overlay.
type treeFS struct {
	ctx     context.Context
	g       gitCmd
	entries map[string]treeEntry // by path; directories have typ "tree"
}

type treeEntry struct {
	mode, typ, oid string
	size           int64
}

// commitFS lists commit's tree once; files are read when opened.
func (g gitCmd) commitFS(ctx context.Context, commit string) (*treeFS, error) {
	out, err := g.run(ctx, nil, "ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit)
	if err != nil {
		return nil, err
	}
	t := &treeFS{ctx: ctx, g: g, entries: map[string]treeEntry{".": {mode: "040000", typ: "tree"}}}
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, name, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[3], 10, 64) // "-" for a tree
		t.entries[name] = treeEntry{mode: f[0], typ: f[1], oid: f[2], size: size}
	}
	return t, nil
}

func (t *treeFS) Open(name string) (fs.File, error) {
	info, err := t.stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return &treeDir{info: info, entries: t.children(name)}, nil
	}
	data, err := t.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &treeFile{info: info, Reader: bytes.NewReader(data)}, nil
}

func (t *treeFS) ReadFile(name string) ([]byte, error) {
	info, err := t.stat(name)
	if err != nil {
		return nil, err
	}
	e := t.entries[name]
	switch {
	case info.IsDir():
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	case e.mode == "120000":
		return nil, &fs.PathError{Op: "read", Path: name, Err: errSymlink}
	case e.typ != "blob":
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("a %s, not a file", e.typ)}
	}
	return t.g.run(t.ctx, nil, "cat-file", "blob", e.oid)
}

func (t *treeFS) Stat(name string) (fs.FileInfo, error) { return t.stat(name) }

func (t *treeFS) stat(name string) (*treeInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := t.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &treeInfo{name: path.Base(name), e: e}, nil
}

func (t *treeFS) children(dir string) []fs.DirEntry {
	var out []fs.DirEntry
	for p := range t.entries {
		if p != "." && path.Dir(p) == dir {
			info, _ := t.stat(p)
			out = append(out, fs.FileInfoToDirEntry(info))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

type treeInfo struct {
	name string
	e    treeEntry
}

func (i *treeInfo) Name() string { return i.name }
func (i *treeInfo) Size() int64  { return i.e.size }
func (i *treeInfo) Mode() fs.FileMode {
	switch {
	case i.e.typ == "tree":
		return fs.ModeDir | 0o555
	case i.e.mode == "120000":
		return fs.ModeSymlink | 0o777
	case i.e.typ != "blob":
		return fs.ModeIrregular
	case i.e.mode == "100755":
		return 0o555
	}
	return 0o444
}
func (i *treeInfo) ModTime() time.Time { return time.Time{} }
func (i *treeInfo) IsDir() bool        { return i.e.typ == "tree" }
func (i *treeInfo) Sys() any           { return nil }

type treeFile struct {
	info *treeInfo
	*bytes.Reader
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *treeFile) Close() error               { return nil }

type treeDir struct {
	info    *treeInfo
	entries []fs.DirEntry
	off     int
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Close() error               { return nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}
