package runner

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pavedhq/paved/internal/flock"
)

// cacheFormat is mixed into every key: bump it when the entry layout or the
// meaning of a step's value changes, so old entries are never misread.
const cacheFormat = "paved-step-cache/v1"

// Files of an entry: steps/<key[:2]>/<key>/{result.json,files/,lock}.
const (
	resultFile = "result.json"
	filesDir   = "files"
	// lockFile is held (flock, shared) by every run that reads or writes
	// the entry, and exclusively by a prune evicting it. Its modification
	// time is the entry's last use, for least-recently-used eviction:
	// file systems mounted noatime or relatime do not keep access times.
	lockFile = "lock"
)

// Cache is a content-addressed store of step results in a directory, so CI
// can persist it between runs. Entries are written to a staging directory
// and renamed into place, so a crash never leaves a half entry behind.
type Cache struct {
	dir string
}

// NewCache opens (creating if needed) a cache in dir.
func NewCache(dir string) (*Cache, error) {
	for _, d := range []string{"steps", "staging"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("cache directory %s: %w", dir, err)
		}
	}
	return &Cache{dir: dir}, nil
}

// Dir is where the cache lives.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) entry(key string) string { return filepath.Join(c.dir, "steps", key[:2], key) }

// holds is what one run keeps in the cache until its Outcome is closed:
// locks on the entries it read or wrote (their files are the results it
// hands on), and the staging directories of steps that failed.
type holds struct {
	mu     sync.Mutex
	locks  []*os.File
	staged map[string]bool
}

func (h *holds) lock(f *os.File) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.locks = append(h.locks, f)
}

func (h *holds) stage(dir string, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.staged == nil {
		h.staged = map[string]bool{}
	}
	if on {
		h.staged[dir] = true
	} else {
		delete(h.staged, dir)
	}
}

// release removes the staged directories, then drops the locks.
func (h *holds) release() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for dir := range h.staged {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("removing staged cache entry: %w", err))
		}
	}
	for _, f := range h.locks {
		f.Close() // closing the descriptor releases its flock
	}
	h.staged, h.locks = nil, nil
	return errors.Join(errs...)
}

// lookup returns the result stored under key, or nil when there is none,
// and holds the entry for the run.
func (c *Cache) lookup(key string, h *holds) (*Result, error) {
	dir := c.entry(key)
	lockPath := filepath.Join(dir, lockFile)
	// Entries from before the lock file get one on first use.
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache entry %s: %w", dir, err)
	}
	if held, err := flock.TryShared(f); err != nil || !held {
		f.Close() // a prune is evicting it: a miss
		return nil, err
	}
	// A prune may have moved the entry away between the open and the lock.
	if !sameFile(f, lockPath) {
		f.Close()
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, resultFile))
	if err != nil {
		f.Close()
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		// A damaged entry is a miss, not a failure: drop it so the step's
		// fresh result can take its place.
		f.Close()
		c.discard(dir)
		return nil, nil
	}
	now := time.Now()
	os.Chtimes(lockPath, now, now) // a use; best effort, the entry is good
	h.lock(f)
	r.Dir = filepath.Join(dir, filesDir)
	r.Cached = true
	return &r, nil
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// stage returns a fresh directory, on the cache's file system, for a step
// to write into before its result is committed. The run holds it locked,
// so a prune never takes it, and removes it if it is never committed.
func (c *Cache) stage(h *holds) (string, error) {
	dir, err := os.MkdirTemp(filepath.Join(c.dir, "staging"), "")
	if err != nil {
		return "", fmt.Errorf("staging cache entry: %w", err)
	}
	h.stage(dir, true)
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("staging cache entry: %w", err)
	}
	if held, err := flock.TryShared(f); err != nil || !held {
		f.Close()
		return "", fmt.Errorf("staging cache entry %s: cannot lock it (%v)", dir, err)
	}
	h.lock(f)
	if err := os.Mkdir(filepath.Join(dir, filesDir), 0o755); err != nil {
		return "", fmt.Errorf("staging cache entry: %w", err)
	}
	return dir, nil
}

// commit moves a staged entry under key and returns the stored result.
func (c *Cache) commit(key, staged string, r *Result, h *holds) (*Result, error) {
	r, err := redactResult(r)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(staged, resultFile), b, 0o644); err != nil {
		return nil, err
	}
	now := time.Now()
	os.Chtimes(filepath.Join(staged, lockFile), now, now) // stored is used
	dst := c.entry(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(staged, dst); err != nil {
		if _, statErr := os.Stat(filepath.Join(dst, resultFile)); statErr != nil {
			return nil, fmt.Errorf("storing cache entry %s: %w", dst, err)
		}
		// Another run stored the same key first. Hand on this run's own
		// result from staging, which goes when the run ends.
		out := *r
		out.Dir = filepath.Join(staged, filesDir)
		return &out, nil
	}
	// The lock taken at staging moved with the directory: the run still
	// holds the entry it wrote.
	h.stage(staged, false)
	out := *r
	out.Dir = filepath.Join(dst, filesDir)
	return &out, nil
}

// cachedStep serves a Keyed step from the cache when its key is known.
type cachedStep struct {
	Keyed
	cache *Cache
	holds *holds
}

var _ Step = (*cachedStep)(nil)

// cached wraps s so that a result stored under the same key is reused; the
// entries it touches are held in h. Steps that are not Keyed are returned
// unchanged.
func cached(s Step, c *Cache, h *holds) Step {
	k, ok := s.(Keyed)
	if !ok || c == nil {
		return s
	}
	return &cachedStep{Keyed: k, cache: c, holds: h}
}

func (s *cachedStep) Run(ctx context.Context, in Inputs) (*Result, error) {
	stepKey, err := s.Key(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("computing cache key: %w", err)
	}
	if stepKey == "" { // the step chose not to be cached this time
		return s.Keyed.Run(ctx, in)
	}
	key := hashStrings(cacheFormat, s.Name(), stepKey)
	if r, err := s.cache.lookup(key, s.holds); err != nil {
		return nil, err
	} else if r != nil {
		if ok, err := s.revalidate(ctx, r); err != nil {
			return nil, err
		} else if ok {
			return r, nil
		}
		// It no longer holds (a wiped registry): make room for the new one.
		if err := s.cache.discard(filepath.Dir(r.Dir)); err != nil {
			return nil, err
		}
	}
	staged, err := s.cache.stage(s.holds)
	if err != nil {
		return nil, err
	}
	in.OutDir = filepath.Join(staged, filesDir)
	r, err := s.Keyed.Run(ctx, in)
	if err != nil || r == nil {
		// Failures are not cached: a flaky test or a registry outage must
		// run again next time. Keep the files for the report, though; the
		// staged directory goes when the run's Outcome is closed.
		if r != nil {
			r.Dir = in.OutDir
		}
		return r, err
	}
	return s.cache.commit(key, staged, r, s.holds)
}

func (s *cachedStep) revalidate(ctx context.Context, r *Result) (bool, error) {
	v, ok := s.Keyed.(Revalidator)
	if !ok {
		return true, nil
	}
	return v.Revalidate(ctx, r)
}

// newName is a random file name.
func newName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// hashStrings returns the hex SHA-256 of the length-prefixed parts, so
// ("ab","c") and ("a","bc") differ.
func hashStrings(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
