// Package testfs copies source trees for tests that change them. It is
// light (the standard library only), so any test may import it.
package testfs

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// CopyTree copies the regular files and directories under from into to
// (created as needed) and returns to. It leaves out .paved, a run's
// outputs, so a checkout where the quick start ran copies like a fresh one.
func CopyTree(t testing.TB, from, to string) string {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".paved" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", from, err)
	}
	return to
}
