package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavedhq/paved/internal/flock"
)

// writing is a cached step that writes size bytes under its key.
func writing(name string, size int) keyedFuncStep {
	return keyedFuncStep{&funcStep{name: name, key: func(Inputs) string { return name }, run: func(_ context.Context, in Inputs) (*Result, error) {
		if err := os.WriteFile(filepath.Join(in.OutDir, "blob"), make([]byte, size), 0o644); err != nil {
			return nil, err
		}
		return NewResult(name, "")
	}}}
}

func runSteps(t *testing.T, r *Runner, steps ...Step) *Outcome {
	t.Helper()
	var g Graph
	for _, s := range steps {
		g.Add(s)
	}
	o, err := r.Run(context.Background(), &g)
	if err != nil {
		t.Fatal(err)
	}
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	return o
}

func setUsed(t *testing.T, c *Cache, step string, when time.Time) {
	t.Helper()
	p := filepath.Join(c.entry(hashStrings(cacheFormat, step, step)), lockFile)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
}

func storedSteps(t *testing.T, c *Cache) []string {
	t.Helper()
	var names []string
	for _, n := range []string{"a", "b", "c"} {
		if _, err := os.Stat(c.entry(hashStrings(cacheFormat, n, n))); err == nil {
			names = append(names, n)
		}
	}
	return names
}

func TestPruneEvictsLeastRecentlyUsed(t *testing.T) {
	c, err := NewCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Cache: c, WorkDir: t.TempDir()}
	a, b, cc := writing("a", 1000), writing("b", 1000), writing("c", 1000)
	runSteps(t, r, a, b, cc).Close()
	// a was stored first and b used an hour ago; a hit on a now must make
	// b the least recently used.
	old := time.Now().Add(-3 * time.Hour)
	setUsed(t, c, "a", old)
	setUsed(t, c, "b", old.Add(time.Hour))
	setUsed(t, c, "c", old.Add(2*time.Hour))
	if o := runSteps(t, r, a); !o.Steps[0].Cached {
		t.Fatal("a was not served from the cache")
	} else {
		o.Close()
	}

	p, err := c.Prune(context.Background(), PruneOptions{MaxSize: 2500})
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSteps(t, c); strings.Join(got, ",") != "a,c" {
		t.Fatalf("kept %v, want a,c (b was least recently used)", got)
	}
	if p.Evicted != 1 || p.Kept != 2 || p.Freed < 1000 || p.Size > 2500 {
		t.Fatalf("Pruned = %+v", p)
	}
	if !strings.Contains(p.String(), "freed") {
		t.Fatalf("String() = %q", p.String())
	}
	// What is left is still served, and an evicted step runs again.
	o := runSteps(t, r, a, b)
	defer o.Close()
	if !o.Steps[0].Cached || o.Steps[1].Cached || b.runs.Load() != 2 {
		t.Fatalf("after prune: a cached=%v, b cached=%v runs=%d", o.Steps[0].Cached, o.Steps[1].Cached, b.runs.Load())
	}
}

func TestPruneMaxAge(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	r := &Runner{Cache: c, WorkDir: t.TempDir()}
	runSteps(t, r, writing("a", 10), writing("b", 10)).Close()
	setUsed(t, c, "a", time.Now().Add(-49*time.Hour))
	p, err := c.Prune(context.Background(), PruneOptions{MaxAge: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := storedSteps(t, c); strings.Join(got, ",") != "b" || p.Evicted != 1 {
		t.Fatalf("kept %v (%+v), want only b", got, p)
	}
}

// A prune running beside a run must not take what the run reads or
// writes: the entries it was served, and the staging directory of a step
// still running.
func TestPruneKeepsWhatARunHolds(t *testing.T) {
	if !flock.Works {
		t.Skip("no flock on this system: concurrent prunes are not protected")
	}
	c, _ := NewCache(t.TempDir())
	r := &Runner{Cache: c, WorkDir: t.TempDir()}
	runSteps(t, r, writing("a", 100)).Close()
	held := runSteps(t, r, writing("a", 100)) // served from the cache, not closed

	started, finish := make(chan string), make(chan struct{})
	slow := keyedFuncStep{&funcStep{name: "b", key: func(Inputs) string { return "b" }, run: func(_ context.Context, in Inputs) (*Result, error) {
		os.WriteFile(filepath.Join(in.OutDir, "blob"), make([]byte, 100), 0o644)
		started <- in.OutDir
		<-finish
		return NewResult("b", "")
	}}}
	done := make(chan *Outcome)
	go func() {
		var g Graph
		g.Add(slow)
		o, _ := r.Run(context.Background(), &g)
		done <- o
	}()
	staged := <-started
	// Make the staging directory look old: only its lock may protect it.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(filepath.Dir(staged), lockFile), old, old)

	p, err := c.Prune(context.Background(), PruneOptions{MaxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Evicted != 0 || p.Busy != 1 || p.Stale != 0 {
		t.Fatalf("Pruned = %+v, want the held entry kept and busy", p)
	}
	if _, err := os.Stat(filepath.Join(held.Results["a"].Dir, "blob")); err != nil {
		t.Fatalf("a held entry's files went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(staged, "blob")); err != nil {
		t.Fatalf("a running step's staging went: %v", err)
	}
	close(finish)
	o := <-done
	if o.Err != nil || o.Steps[0].Cached {
		t.Fatalf("the slow step: %v", o.Err)
	}
	held.Close()
	o.Close()
	p, err = c.Prune(context.Background(), PruneOptions{MaxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Evicted != 2 || p.Kept != 0 || p.Size != 0 {
		t.Fatalf("after the runs closed: %+v, want both entries evicted", p)
	}
}

func TestPruneRemovesAbandonedStaging(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	// What a run killed mid-step leaves: a staged entry nobody holds.
	h := &holds{}
	dir, err := c.stage(h)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, filesDir, "blob"), make([]byte, 50), 0o644)
	for _, f := range h.locks {
		f.Close()
	}
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, lockFile), old, old)
	os.Chtimes(dir, old, old)
	p, err := c.Prune(context.Background(), PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) || p.Stale != 1 || p.Freed < 50 {
		t.Fatalf("abandoned staging: stat %v, %+v", err, p)
	}
}

func countDirs(t *testing.T, pattern string) int {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// A run leaves no work directory and no staging behind once its Outcome
// is closed, whether its steps succeed, fail or are canceled.
func TestRunCleansUp(t *testing.T) {
	for _, tc := range []string{"succeeded", "failed", "canceled"} {
		t.Run(tc, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			c, _ := NewCache(t.TempDir())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			plain := &funcStep{name: "plain", run: func(_ context.Context, in Inputs) (*Result, error) {
				return NewResult("x", "")
			}}
			keyed := keyedFuncStep{&funcStep{name: "keyed", key: func(Inputs) string { return "k" }, run: func(ctx context.Context, in Inputs) (*Result, error) {
				os.WriteFile(filepath.Join(in.OutDir, "junit.xml"), []byte("<x/>"), 0o644)
				r, _ := NewResult("x", "")
				switch tc {
				case "failed":
					return r, errors.New("red test")
				case "canceled":
					cancel()
					<-ctx.Done()
					return r, ctx.Err()
				}
				return r, nil
			}}}
			var g Graph
			g.Add(plain)
			g.Add(keyed)
			o, err := (&Runner{Cache: c}).Run(ctx, &g)
			if err != nil {
				t.Fatal(err)
			}
			if (o.Err == nil) != (tc == "succeeded") {
				t.Fatalf("Err = %v", o.Err)
			}
			// Until Close, the results' files are there to read.
			if _, err := os.Stat(filepath.Join(o.Results["keyed"].Dir, "junit.xml")); err != nil {
				t.Fatal(err)
			}
			if n := countDirs(t, filepath.Join(tmp, "paved-run-*")); n != 1 {
				t.Fatalf("%d work directories during the run, want 1", n)
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if n := countDirs(t, filepath.Join(tmp, "paved-run-*")); n != 0 {
				t.Fatalf("%d paved-run-* directories left after the run", n)
			}
			if n := countDirs(t, filepath.Join(c.Dir(), "staging", "*")); n != 0 {
				t.Fatalf("%d staging directories left after the run", n)
			}
		})
	}
}

// A result that no longer holds is replaced in the cache by the fresh one,
// not kept beside it.
func TestCacheReplacesAStaleEntry(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	s := &revalidating{keyedFuncStep: keyedFuncStep{&funcStep{name: "publish", key: func(Inputs) string { return "k" }}}}
	s.run = func(context.Context, Inputs) (*Result, error) { return NewResult(s.runs.Load(), "") }
	r := &Runner{Cache: c, WorkDir: t.TempDir()}
	for _, fresh := range []bool{true, false, true} {
		s.fresh = fresh
		o := runSteps(t, r, s)
		o.Close()
	}
	o := runSteps(t, r, s)
	defer o.Close()
	var v int
	if err := o.Results["publish"].Decode(&v); err != nil || v != 2 || !o.Steps[0].Cached {
		t.Fatalf("served %d (cached %v, %v), want the second run's result from the cache", v, o.Steps[0].Cached, err)
	}
}
