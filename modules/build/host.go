package build

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
	"sort"
	"strings"
)

// HostFiles is a layer of this machine's files at the same paths: each
// path is a file (a program: it and every shared library ldd lists for it,
// the dynamic loader included) or a directory (copied whole, with the
// libraries of the ELF files in it). It puts an interpreter (node,
// python3) into an image when no base image that has one can be pulled;
// the image then runs on this machine's architecture only.
func HostFiles(ctx context.Context, name string, paths ...string) (Layer, error) {
	layer := Layer{Name: name}
	var elfs []string
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return Layer{}, fmt.Errorf("host file %q: want an absolute path", p)
		}
		info, err := os.Stat(p)
		if err != nil {
			return Layer{}, fmt.Errorf("host file: %w", err)
		}
		if info.IsDir() {
			layer.Trees = append(layer.Trees, Tree{Src: p, Dest: filepath.ToSlash(p)})
			err := filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() && isELF(f) {
					elfs = append(elfs, f)
				}
				return err
			})
			if err != nil {
				return Layer{}, fmt.Errorf("host file: %w", err)
			}
			continue
		}
		layer.Files = append(layer.Files, File{Path: filepath.ToSlash(p), Src: p})
		if isELF(p) {
			elfs = append(elfs, p)
		}
	}
	libs, err := sharedLibraries(ctx, elfs)
	if err != nil {
		return Layer{}, err
	}
	for _, l := range libs {
		layer.Files = append(layer.Files, File{Path: filepath.ToSlash(l), Src: l})
	}
	return layer, nil
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
	if len(files) == 0 {
		return nil, nil
	}
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		return nil, fmt.Errorf("host files: finding the shared libraries of %s needs ldd: %w", files[0], err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		out, err := exec.CommandContext(ctx, ldd, f).Output()
		if err != nil {
			// Static executables and some shared objects make ldd exit 1.
			if len(out) == 0 || bytes.Contains(out, []byte("not a dynamic executable")) || bytes.Contains(out, []byte("statically linked")) {
				continue
			}
			return nil, fmt.Errorf("host files: ldd %s: %w", f, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.Contains(line, "not found") {
				return nil, fmt.Errorf("host files: ldd %s: %s", f, line)
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
