// Package hostbase assembles small base images from what the test machine
// has, for tests that cannot pull a public base (node, python): the host's
// programs with the shared libraries ldd lists for them, and directories
// such as a Python standard library, laid onto paved's minimal base (CA
// bundle, root and nonroot users, /tmp). The image is for the host's
// platform only; its programs run from an extracted copy of the image on
// this machine.
package hostbase

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
)

// Platform is the platform of the images this package makes.
var Platform = v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}

// Layout writes a base holding paths (see Write) to an OCI image layout in
// a directory of the test and returns it as a base reference, "oci:DIR".
func Layout(t testing.TB, paths ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	ref, err := Write(context.Background(), dir, paths...)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// Write writes the base to an OCI image layout in dir and returns "oci:DIR".
// Each path is a host file (a program: it and the libraries ldd lists for
// it go into the image at the same paths) or a directory (copied whole,
// with the libraries of the ELF files in it). The first path that is a
// file is the image's entrypoint.
func Write(ctx context.Context, dir string, paths ...string) (string, error) {
	idx, err := Index(ctx, paths...)
	if err != nil {
		return "", err
	}
	if err := build.WriteLayout(dir, idx); err != nil {
		return "", err
	}
	return "oci:" + dir, nil
}

// Index assembles the base as a one-platform image index.
func Index(ctx context.Context, paths ...string) (v1.ImageIndex, error) {
	layer := build.Layer{Name: "host files"}
	var elfs []string
	var entrypoint []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("host base: %w", err)
		}
		if info.IsDir() {
			layer.Trees = append(layer.Trees, build.Tree{Src: p, Dest: filepath.ToSlash(p)})
			err := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() && isELF(f) {
					elfs = append(elfs, f)
				}
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("host base: %w", err)
			}
			continue
		}
		layer.Files = append(layer.Files, build.File{Path: filepath.ToSlash(p), Src: p})
		if entrypoint == nil {
			entrypoint = []string{p}
		}
		if isELF(p) {
			elfs = append(elfs, p)
		}
	}
	if entrypoint == nil {
		entrypoint = []string{"/bin/false"}
	}
	libs, err := sharedLibraries(ctx, elfs)
	if err != nil {
		return nil, err
	}
	for _, l := range libs {
		layer.Files = append(layer.Files, build.File{Path: filepath.ToSlash(l), Src: l})
	}
	return build.Assemble(ctx, build.Assembly{
		Platforms:  []v1.Platform{Platform},
		Layers:     []build.Layer{layer},
		Entrypoint: entrypoint,
	})
}

func isELF(p string) bool {
	f, err := elf.Open(p)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// sharedLibraries lists, sorted and once each, the libraries ldd resolves
// for the files, including the dynamic loader.
func sharedLibraries(ctx context.Context, files []string) ([]string, error) {
	seen := map[string]bool{}
	for _, f := range files {
		out, err := exec.CommandContext(ctx, "ldd", f).Output()
		if err != nil {
			// Static executables and some shared objects make ldd exit 1.
			if bytes.Contains(out, []byte("not a dynamic executable")) || len(out) == 0 {
				continue
			}
			return nil, fmt.Errorf("host base: ldd %s: %w", f, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.Contains(line, "not found") {
				return nil, fmt.Errorf("host base: ldd %s: %s", f, line)
			}
			// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
			// "/lib64/ld-linux-x86-64.so.2 (0x...)".
			if _, after, ok := strings.Cut(line, "=> "); ok {
				line = after
			}
			lib, _, _ := strings.Cut(line, " ")
			if filepath.IsAbs(lib) {
				seen[lib] = true
			}
		}
	}
	libs := make([]string, 0, len(seen))
	for l := range seen {
		libs = append(libs, l)
	}
	sort.Strings(libs)
	return libs, nil
}
