package tests

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestCachePruneAndNoLeftovers is the cache's acceptance: a run leaves no
// temporary directory behind, `paved cache prune --max-size 1MB` brings the
// cache under the bound, the next run still succeeds, and the automatic
// bound after a run holds too.
func TestCachePruneAndNoLeftovers(t *testing.T) {
	src := copyExample(t)
	tmp, cache := t.TempDir(), t.TempDir()
	env := []string{"TMPDIR=" + tmp}
	run := func(extraEnv ...string) {
		t.Helper()
		r := paved(t, append(env, extraEnv...), "run", "go-service", "--source", src, "--cache-dir", cache, "--platform", "linux/amd64")
		if r.code != 0 {
			t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "paved-run-*")); len(left) > 0 {
			t.Fatalf("the run left %v", left)
		}
		if left, _ := filepath.Glob(filepath.Join(cache, "staging", "*")); len(left) > 0 {
			t.Fatalf("the run left staged entries %v", left)
		}
	}

	run()
	t.Logf("the cache holds %d bytes after a run", treeSize(t, cache))
	// The lint step kept staticcheck's per-package cache, which has its own
	// bound (entries unused for five days), outside --cache-max-size.
	if n := treeSize(t, filepath.Join(cache, "staticcheck")); n == 0 {
		t.Error("the run kept nothing in the cache's staticcheck/")
	}
	const bound = 1_000_000
	if n := treeSize(t, cache); n <= bound {
		t.Fatalf("the cache holds %d bytes after a run: too little for the prune to have work", n)
	}
	pr := paved(t, env, "cache", "prune", "--max-size", "1MB", "--cache-dir", cache)
	if pr.code != 0 || !strings.Contains(pr.stdout, "freed") {
		t.Fatalf("paved cache prune exited %d\n%s%s", pr.code, pr.stdout, pr.stderr)
	}
	if n := treeSize(t, cache); n > bound {
		t.Fatalf("after prune --max-size 1MB the cache holds %d bytes\n%s", n, pr.stdout)
	}
	t.Logf("%s", pr.stdout)

	// The next run rebuilds what was evicted, then the bound from the
	// environment applies after it.
	run("PAVED_CACHE_MAX_SIZE=1MB")
	if n := treeSize(t, cache); n > bound {
		t.Fatalf("after a run bounded to 1MB the cache holds %d bytes", n)
	}
}

// treeSize is the sum of the sizes of the files under dir, but for
// staticcheck/ below it when dir is a cache: staticcheck's cache is bounded
// by age, not by --cache-max-size (see the README's Cache).
func treeSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && d.Name() == "staticcheck" && filepath.Dir(path) == dir {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
