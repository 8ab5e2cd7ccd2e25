package static

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

// ImportPath is this package's import path, and MainPackage the command's,
// in the module that WriteSource writes.
const (
	ModulePath  = "github.com/pavedhq/paved"
	ImportPath  = ModulePath + "/modules/build/static"
	MainPackage = "./cmd/paved-static"
	// Binary is the server's file name in the image.
	Binary = "paved-static"
)

// files is this package's source, the server's only code.
//
//go:embed doc.go encoding.go handler.go hashed.go server.go source.go
var files embed.FS

// MainSource is cmd/paved-static/main.go; a test keeps the two equal.
const MainSource = `// Command paved-static serves a directory of built web files: the server
// of the frontend golden path's images. See package static.
package main

import (
	"os"

	"github.com/pavedhq/paved/modules/build/static"
)

func main() { os.Exit(static.Main(os.Args[1:])) }
`

// goMod declares the standard library as the module's only dependency, so
// the build needs no download; the go line is the oldest Go with os.Root.
const goMod = "module " + ModulePath + "\n\ngo 1.24\n"

// WriteSource writes a Go module holding the server and its command into
// dir, for the go command to build (MainPackage) with nothing but the
// standard library. The files are the same bytes for the same paved, so
// the binary is as reproducible as any Go build.
func WriteSource(dir string) error {
	src, err := Source()
	if err != nil {
		return err
	}
	for name, b := range src {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Source is the module WriteSource writes: slash-separated paths and their
// content. It names the server exactly, for a cache key.
func Source() (map[string][]byte, error) {
	out := map[string][]byte{"go.mod": []byte(goMod), "cmd/paved-static/main.go": []byte(MainSource)}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		out["modules/build/static/"+p] = b
		return err
	})
	return out, err
}
