package build

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// nativeFile is an ELF file of a layer: code for one architecture.
type nativeFile struct {
	path string // in the image
	arch string // GOARCH spelling; "" when the machine is not one paved knows
}

// NativeCodeError is Assemble's refusal of a shared layer whose package
// ships native code for fewer architectures than the image is built for:
// the image would fail at run time on the others.
type NativeCodeError struct {
	Package string   // the npm or Python package, or the directory
	File    string   // one of its native files, in the image
	Have    []string // the architectures its native code is for
	Want    []string // the platforms the image is for
}

func (e *NativeCodeError) Error() string {
	have := strings.Join(e.Have, ", ")
	if have == "" {
		have = "an unknown architecture"
	}
	return fmt.Sprintf("dependency %s ships native code for %s only (%s), but the image is for %s: "+
		"build for the platforms it supports (--platform, or platforms: in paved.yaml) or use a pure alternative",
		e.Package, have, e.File, strings.Join(e.Want, ", "))
}

// elfMachines maps ELF e_machine values to GOARCH names.
var elfMachines = map[uint16]string{
	3: "386", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm", 62: "amd64", 183: "arm64", 243: "riscv64", 258: "loong64",
}

// elfArch reports whether the entry is an ELF file, and for which
// architecture. Only ELF counts as native code: a Mach-O or PE file (a
// macOS or Windows prebuild) never runs in a Linux image and is left alone.
func elfArch(e entry) (string, bool, error) {
	head := e.data
	if e.open != nil {
		if e.size < 20 {
			return "", false, nil
		}
		rc, err := e.open()
		if err != nil {
			return "", false, err
		}
		buf := make([]byte, 20)
		_, err = io.ReadFull(rc, buf)
		rc.Close()
		if err != nil {
			return "", false, fmt.Errorf("reading %s: %w", e.name, err)
		}
		head = buf
	}
	return parseELFHead(head)
}

// parseELFHead reads the architecture from the first 20 bytes of an ELF
// header.
func parseELFHead(head []byte) (string, bool, error) {
	if len(head) < 20 || !bytes.HasPrefix(head, []byte("\x7fELF")) {
		return "", false, nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if head[5] == 2 {
		order = binary.BigEndian
	}
	m := order.Uint16(head[18:20])
	arch := elfMachines[m]
	if arch == "ppc64" && order == binary.LittleEndian {
		arch = "ppc64le"
	}
	if arch == "mips" && head[4] == 2 {
		arch = "mips64"
	}
	if arch == "" {
		arch = fmt.Sprintf("ELF machine %d", m)
	}
	return arch, true, nil
}

// checkNative refuses native code a platform has no build of. Files are
// grouped by package, so a package that ships prebuilds for each
// architecture (prebuilds/linux-x64, prebuilds/linux-arm64) passes.
func checkNative(files []nativeFile, platforms []v1.Platform) error {
	if len(files) == 0 {
		return nil
	}
	type pkg struct {
		first string
		archs map[string]bool
	}
	pkgs := map[string]*pkg{}
	var order []string
	for _, f := range files {
		name := packageOf(f.path)
		p := pkgs[name]
		if p == nil {
			p = &pkg{first: f.path, archs: map[string]bool{}}
			pkgs[name] = p
			order = append(order, name)
		}
		p.archs[f.arch] = true
	}
	sort.Strings(order)
	var want []string
	for _, p := range platforms {
		want = append(want, p.String())
	}
	for _, name := range order {
		p := pkgs[name]
		for _, pl := range platforms {
			if p.archs[pl.Architecture] {
				continue
			}
			var have []string
			for a := range p.archs {
				have = append(have, a)
			}
			sort.Strings(have)
			return &NativeCodeError{Package: name, File: p.first, Have: have, Want: want}
		}
	}
	return nil
}

// packageOf names the package a file in the image belongs to: the npm
// package under the last node_modules, the distribution under
// site-packages or dist-packages, else the file's directory.
func packageOf(file string) string {
	if name := distribution(file); name != "" {
		return name
	}
	return path.Dir(file)
}

func distribution(file string) string {
	parts := strings.Split(strings.Trim(file, "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		switch parts[i] {
		case "node_modules":
			if strings.HasPrefix(parts[i+1], "@") && i+2 < len(parts)-1 {
				return parts[i+1] + "/" + parts[i+2]
			}
			return parts[i+1]
		case "site-packages", "dist-packages":
			top := parts[i+1]
			if i+1 == len(parts)-1 {
				// A module file straight in site-packages: _foo.cpython-312-x86_64-linux-gnu.so.
				top, _, _ = strings.Cut(top, ".")
			}
			return strings.TrimSuffix(top, ".libs")
		}
	}
	return ""
}
