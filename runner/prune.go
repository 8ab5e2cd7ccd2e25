package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pavedhq/paved/internal/flock"
)

// DefaultCacheMaxSize is the bound paved's front doors apply to the cache
// after each run.
const DefaultCacheMaxSize int64 = 10 << 30

// PruneOptions bound a cache. A zero field sets no bound.
type PruneOptions struct {
	// MaxSize is how many bytes the entries may take; the least recently
	// used go first.
	MaxSize int64
	// MaxAge evicts entries not used for longer.
	MaxAge time.Duration
}

// Pruned says what a prune did.
type Pruned struct {
	Evicted int   `json:"evicted"` // entries removed
	Stale   int   `json:"stale"`   // staging directories of runs that died, removed
	Freed   int64 `json:"freed"`   // bytes removed, entries and staging
	Kept    int   `json:"kept"`    // entries left
	Size    int64 `json:"size"`    // bytes the entries left take
	// Busy counts entries over a bound that were kept because a run holds
	// them; the next prune can take them.
	Busy int `json:"busy"`
}

func (p Pruned) String() string {
	s := fmt.Sprintf("freed %s (%d entries", FormatSize(p.Freed), p.Evicted)
	if p.Stale > 0 {
		s += fmt.Sprintf(", %d abandoned staging directories", p.Stale)
	}
	s += fmt.Sprintf("); %d entries, %s left", p.Kept, FormatSize(p.Size))
	if p.Busy > 0 {
		s += fmt.Sprintf("; %d in use by a running step kept", p.Busy)
	}
	return s
}

// staleAfter is how old an unlocked staging directory must be before a
// prune takes it for the leftover of a run that died. With flock, a live
// run holds its staging directories locked, and this only covers the
// moment between creating one and locking it. Without flock (not unix) a
// prune cannot tell which entries a concurrent run holds: it removes staging
// directories only by age, and an entry a run is reading may go (that run
// fails and re-runs cleanly next time).
var staleAfter = func() time.Duration {
	if flock.Works {
		return time.Minute
	}
	return 24 * time.Hour
}()

type cacheEntry struct {
	dir  string
	size int64
	used time.Time
}

// Prune evicts the least recently used entries until the cache is within o,
// and removes what runs that died left in staging. It is safe while other
// runs use the cache: an entry a run holds (reading or writing it) is kept
// and counted as Busy.
func (c *Cache) Prune(ctx context.Context, o PruneOptions) (Pruned, error) {
	var p Pruned
	if o.MaxSize < 0 || o.MaxAge < 0 {
		return p, fmt.Errorf("pruning cache %s: negative bound", c.dir)
	}
	if err := c.sweepStaging(&p); err != nil {
		return p, err
	}
	entries, err := c.entries()
	if err != nil {
		return p, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.Before(entries[j].used) })
	var total int64
	for _, e := range entries {
		total += e.size
	}
	now := time.Now()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return p, err
		}
		tooOld := o.MaxAge > 0 && now.Sub(e.used) > o.MaxAge
		tooBig := o.MaxSize > 0 && total > o.MaxSize
		if !tooOld && !tooBig {
			p.Kept++
			continue
		}
		gone, err := c.evictHeld(e.dir)
		if err != nil {
			return p, err
		}
		if !gone {
			p.Busy++
			p.Kept++
			continue
		}
		p.Evicted++
		p.Freed += e.size
		total -= e.size
	}
	p.Size = total
	return p, nil
}

// entries lists the stored entries with their size and last use.
func (c *Cache) entries() ([]cacheEntry, error) {
	var out []cacheEntry
	shards, err := os.ReadDir(filepath.Join(c.dir, "steps"))
	if err != nil {
		return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
	}
	for _, s := range shards {
		if !s.IsDir() {
			continue
		}
		keys, err := os.ReadDir(filepath.Join(c.dir, "steps", s.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading cache %s: %w", c.dir, err)
		}
		for _, k := range keys {
			dir := filepath.Join(c.dir, "steps", s.Name(), k.Name())
			size, err := dirSize(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue // another prune took it
			}
			if err != nil {
				return nil, err
			}
			out = append(out, cacheEntry{dir: dir, size: size, used: lastUse(dir)})
		}
	}
	return out, nil
}

// lastUse is the lock file's time, or for an entry without one (written
// by an older paved) its result's.
func lastUse(dir string) time.Time {
	for _, f := range []string{lockFile, resultFile, "."} {
		if info, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return info.ModTime()
		}
	}
	return time.Time{}
}

// evictHeld removes an entry unless a run holds it.
func (c *Cache) evictHeld(dir string) (bool, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil // another prune took it
	}
	if err != nil {
		return false, fmt.Errorf("evicting cache entry %s: %w", dir, err)
	}
	defer f.Close()
	if held, err := flock.TryExclusive(f); err != nil || !held {
		return false, err
	}
	return true, c.discard(dir)
}

// discard moves dir out of the way in one rename, so no run can find half
// of it, then removes it.
func (c *Cache) discard(dir string) error {
	trash := filepath.Join(c.dir, "staging", "discard-"+newName())
	if err := os.Rename(dir, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("evicting cache entry %s: %w", dir, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("evicting cache entry %s: %w", dir, err)
	}
	return nil
}

// sweepStaging removes staging directories no live run holds: what a
// killed run or an interrupted prune left.
func (c *Cache) sweepStaging(p *Pruned) error {
	dir := filepath.Join(c.dir, "staging")
	list, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading cache %s: %w", c.dir, err)
	}
	for _, d := range list {
		path := filepath.Join(dir, d.Name())
		if !stagingAbandoned(path, strings.HasPrefix(d.Name(), "discard-")) {
			continue
		}
		size, _ := dirSize(path)
		if err := os.RemoveAll(path); err != nil {
			return fmt.Errorf("removing abandoned %s: %w", path, err)
		}
		p.Stale++
		p.Freed += size
	}
	return nil
}

func stagingAbandoned(path string, discarded bool) bool {
	info, err := os.Lstat(path)
	if err != nil {
		return false
	}
	if discarded && flock.Works {
		return true // nobody uses a discarded entry; a prune died removing it
	}
	f, err := os.Open(filepath.Join(path, lockFile))
	if err != nil {
		return time.Since(info.ModTime()) > staleAfter
	}
	defer f.Close()
	if held, err := flock.TryExclusive(f); err != nil || !held {
		return false
	}
	fi, err := f.Stat()
	return err == nil && time.Since(fi.ModTime()) > staleAfter
}

// dirSize is the sum of the sizes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
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
	return n, err
}
