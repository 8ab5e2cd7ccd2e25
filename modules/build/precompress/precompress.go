// Package precompress writes gzip and brotli siblings (NAME.gz, NAME.br)
// of a directory's compressible files, so a web server can send them as
// they are instead of compressing on every request. Output is the same
// bytes for the same input: gzip with no name or time in its header,
// brotli at a fixed quality.
package precompress

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"
)

// MinSize is the smallest file worth compressing: below it, the headers
// and the decompression cost more than the bytes saved.
const MinSize = 256

// compressible are the extensions of text-like formats; images, fonts
// and video are compressed already.
var compressible = map[string]bool{
	".html": true, ".htm": true, ".css": true, ".js": true, ".mjs": true, ".cjs": true,
	".json": true, ".map": true, ".webmanifest": true, ".svg": true, ".txt": true,
	".xml": true, ".wasm": true, ".ico": true,
}

// Compressible reports whether Dir compresses a file with this name.
func Compressible(name string) bool { return compressible[strings.ToLower(filepath.Ext(name))] }

// Stats says what Dir did.
type Stats struct {
	Files   int // files compressed (each with a .gz and a .br, or one of them)
	Written int // siblings written
	Kept    int // siblings the build had written already, left as they were
}

// Dir writes NAME.gz and NAME.br beside each compressible file of dir of
// MinSize bytes or more, unless the sibling exists (the application's
// build wrote it) or would not be smaller than the file. Symbolic links
// are not followed.
func Dir(ctx context.Context, dir string) (Stats, error) {
	var st Stats
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !Compressible(p) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() < MinSize {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		wrote := false
		for _, enc := range []struct {
			suffix string
			fn     func([]byte) ([]byte, error)
		}{{".gz", Gzip}, {".br", Brotli}} {
			sib := p + enc.suffix
			if _, err := os.Lstat(sib); err == nil {
				st.Kept++
				continue
			}
			out, err := enc.fn(data)
			if err != nil {
				return fmt.Errorf("compressing %s: %w", p, err)
			}
			if len(out) >= len(data) {
				continue
			}
			if err := os.WriteFile(sib, out, info.Mode().Perm()); err != nil {
				return err
			}
			st.Written++
			wrote = true
		}
		if wrote {
			st.Files++
		}
		return nil
	})
	return st, err
}

// Gzip compresses at the best level with an empty header (no name, no
// time), so the bytes depend only on the input.
func Gzip(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Brotli compresses at the best quality, as static files afford: they are
// compressed once and served many times.
func Brotli(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
