// Package gocache reads a Go build cache in tests that check which packages
// a go command compiled.
package gocache

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Archives returns the compiled packages in the build cache dir: its
// archives (it also holds go's package index, test results and vet facts).
func Archives(t testing.TB, dir string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "-d") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, 8)
		if n, _ := f.Read(head); string(head[:n]) == "!<arch>\n" {
			m[path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Added returns how many of after are not in before.
func Added(before, after map[string]bool) int {
	n := 0
	for p := range after {
		if !before[p] {
			n++
		}
	}
	return n
}
