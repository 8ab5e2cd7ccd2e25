package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file or directory of a layer. Names are relative ("app/x"),
// as in the tars that docker and ko produce.
type entry struct {
	name     string
	dir      bool
	mode     int64 // permission bits, plus 01000 for the sticky bit
	uid, gid int
	data     []byte
	// open streams the content when it is too large to hold twice (a binary).
	open func() (io.ReadCloser, error)
	size int64
	// link, when set, makes the entry a symbolic link to it.
	link string
}

// writeTar writes entries as a tar whose bytes depend only on the entries and
// mtime: sorted names, every parent directory present, fixed owners and modes,
// no user or group names.
func writeTar(w io.Writer, entries []entry, mtime time.Time) error {
	byName := make(map[string]entry, len(entries))
	for _, e := range entries {
		name := strings.Trim(path.Clean(e.name), "/")
		if name == "" || name == "." || strings.HasPrefix(name, "../") || name == ".." {
			return fmt.Errorf("invalid layer path %q", e.name)
		}
		e.name = name
		byName[name] = e
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if _, ok := byName[dir]; !ok {
				byName[dir] = entry{name: dir, dir: true, mode: 0o755}
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)

	tw := tar.NewWriter(w)
	for _, n := range names {
		e := byName[n]
		hdr := &tar.Header{
			Name:    n,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			// Some extractors only recognise directories by the trailing slash.
			hdr.Name += "/"
			hdr.Typeflag = tar.TypeDir
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("writing %s: %w", n, err)
			}
			continue
		}
		if e.link != "" {
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.link
			hdr.Mode = 0o777
			if err := tw.WriteHeader(hdr); err != nil {
				return fmt.Errorf("writing %s: %w", n, err)
			}
			continue
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(e.data))
		if e.open != nil {
			hdr.Size = e.size
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing %s: %w", n, err)
		}
		if e.open == nil {
			if _, err := tw.Write(e.data); err != nil {
				return fmt.Errorf("writing %s: %w", n, err)
			}
			continue
		}
		rc, err := e.open()
		if err != nil {
			return fmt.Errorf("opening %s: %w", n, err)
		}
		_, err = io.Copy(tw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("writing %s: %w", n, err)
		}
	}
	return tw.Close()
}

// newLayer builds a gzip-compressed OCI layer from entries. The compressed
// bytes are kept in memory so the layer is compressed exactly once; the
// standard library's gzip writes no timestamp or name in its header, so the
// digest is stable across runs and machines.
func newLayer(entries []entry, mtime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := writeTar(zw, entries, mtime); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	return plainLayer{l}, nil
}

// plainLayer hides the tarball layer's Descriptor method, whose empty (not
// nil) annotations would otherwise differ from the manifest as parsed back.
type plainLayer struct{ v1.Layer }
