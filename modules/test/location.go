package test

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

var (
	// reportLine is how the testing package prefixes t.Error and t.Log
	// output: the file's base name and line, indented by the test's depth.
	reportLine = regexp.MustCompile(`^\s+([^\s/\\:]+\.go):(\d+): `)
	// compileLine is the compiler's (and vet's) "path.go:line:col: msg",
	// the path relative to where go ran, or absolute.
	compileLine = regexp.MustCompile(`^(?:vet: )?([^\s:]+\.go):(\d+)(?::\d+)?: `)
	// frameLine is a stack frame of a panic: with -trimpath, the file is
	// named by its package's import path.
	frameLine = regexp.MustCompile(`^\s+([^\s:]+\.go):(\d+)(?: \+0x[0-9a-f]+)?$`)
)

// locate sets f.File and f.Line from what f's output names: the last line a
// test reported (t.Error's "x_test.go:12: "), else a frame of a panic in one of
// the tested packages, else a compiler message. The file must exist: it is
// where CI annotations point. dirs maps import paths to directories.
func locate(f *Failure, dir string, dirs map[string]string) {
	f.File, f.Line = "", 0
	lines := strings.Split(f.Output, "\n")
	try := func(p string, n string) bool {
		line, err := strconv.Atoi(n)
		if err != nil || line <= 0 || p == "" {
			return false
		}
		rel, ok := within(dir, p)
		if !ok {
			return false
		}
		if fi, err := os.Stat(filepath.Join(dir, rel)); err != nil || !fi.Mode().IsRegular() {
			return false
		}
		f.File, f.Line = filepath.ToSlash(rel), line
		return true
	}
	if pkgDir := dirs[f.Package]; pkgDir != "" && f.Test != "" {
		// The last reported line: t.Log and t.Error print alike, and the
		// line a test stopped on (t.Fatal) or failed at last comes after
		// the logs that led up to it.
		for i := len(lines) - 1; i >= 0; i-- {
			if m := reportLine.FindStringSubmatch(lines[i]); m != nil && try(filepath.Join(pkgDir, m[1]), m[2]) {
				return
			}
		}
	}
	for _, l := range lines {
		m := frameLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if file := fileOfFrame(m[1], dirs); file != "" && try(file, m[2]) {
			return
		}
	}
	for _, l := range lines {
		if m := compileLine.FindStringSubmatch(l); m != nil {
			p := m[1]
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if try(p, m[2]) {
				return
			}
		}
	}
}

// fileOfFrame maps a trimmed frame's "import/path/file.go" to the file in
// the package's directory, or "" when no listed package holds it.
func fileOfFrame(file string, dirs map[string]string) string {
	if filepath.IsAbs(file) {
		return file
	}
	if d, ok := dirs[path.Dir(file)]; ok {
		return filepath.Join(d, path.Base(file))
	}
	return ""
}

// within returns p relative to dir when p lies inside it.
func within(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}
