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
)

// cacheFormat is mixed into every key: bump it when the entry layout or the
// meaning of a step's value changes, so old entries are never misread.
const cacheFormat = "paved-step-cache/v1"

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

// Get returns the result stored under key, or nil when there is none.
func (c *Cache) Get(key string) (*Result, error) {
	dir := c.entry(key)
	b, err := os.ReadFile(filepath.Join(dir, "result.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		// A damaged entry is a miss, not a failure: drop it so the step's
		// fresh result can take its place.
		os.RemoveAll(dir)
		return nil, nil
	}
	r.Dir = filepath.Join(dir, "files")
	r.Cached = true
	return &r, nil
}

// stage returns a fresh directory, on the cache's file system, for a step
// to write into before its result is committed.
func (c *Cache) stage() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	dir := filepath.Join(c.dir, "staging", hex.EncodeToString(b))
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// commit moves a staged entry under key and returns the stored result.
func (c *Cache) commit(key, staged string, r *Result) (*Result, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(staged, "result.json"), b, 0o644); err != nil {
		return nil, err
	}
	dst := c.entry(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(staged, dst); err != nil {
		// Another run stored the same key first; its entry is as good.
		os.RemoveAll(staged)
		if _, statErr := os.Stat(filepath.Join(dst, "result.json")); statErr != nil {
			return nil, fmt.Errorf("storing cache entry %s: %w", dst, err)
		}
	}
	out := *r
	out.Dir = filepath.Join(dst, "files")
	return &out, nil
}

// cachedStep serves a Keyed step from the cache when its key is known.
type cachedStep struct {
	Keyed
	cache *Cache
}

var _ Step = (*cachedStep)(nil)

// Cached wraps s so that a result stored under the same key is reused.
// Steps that are not Keyed are returned unchanged.
func Cached(s Step, c *Cache) Step {
	k, ok := s.(Keyed)
	if !ok || c == nil {
		return s
	}
	return &cachedStep{Keyed: k, cache: c}
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
	if r, err := s.cache.Get(key); err != nil {
		return nil, err
	} else if r != nil {
		if ok, err := s.revalidate(ctx, r); err != nil {
			return nil, err
		} else if ok {
			return r, nil
		}
	}
	staged, err := s.cache.stage()
	if err != nil {
		return nil, err
	}
	in.OutDir = filepath.Join(staged, "files")
	r, err := s.Keyed.Run(ctx, in)
	if err != nil || r == nil {
		// Failures are not cached: a flaky test or a registry outage must
		// run again next time. Keep the files for the report, though.
		if r != nil {
			r.Dir = in.OutDir
		}
		return r, err
	}
	return s.cache.commit(key, staged, r)
}

func (s *cachedStep) revalidate(ctx context.Context, r *Result) (bool, error) {
	v, ok := s.Keyed.(Revalidator)
	if !ok {
		return true, nil
	}
	return v.Revalidate(ctx, r)
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
