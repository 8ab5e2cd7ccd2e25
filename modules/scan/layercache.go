package scan

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	trivycache "github.com/aquasecurity/trivy/pkg/cache"
	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
)

// The layer cache's bounds: past either, the entries used least recently
// go. An entry is a layer's package list: a few kilobytes for a layer of
// Go binaries, up to a megabyte or so for a distribution's base layer
// (dpkg's file lists).
const (
	maxLayerEntries = 1024
	maxLayerBytes   = 256 << 20
)

// layerCache is a Trivy cache that keeps each layer's analysis (the OS and
// packages found in it: Trivy's BlobInfo) as a file in dir, named after
// Trivy's key for the layer, which hashes its diffID, the versions of the
// analyzers that ran and the options that change what they find. A scan of
// an image that shares a layer with an earlier one reads the layer's
// analysis instead of unpacking and analysing it again; matching against
// the database, which is cheap, is done every time. The trivy CLI keeps
// the same entries in a bbolt file; one file per entry needs no lock, so
// concurrent runs share the directory.
//
// What the image config yields stays in memory: it is cheap and its key,
// the config's digest, changes with every build.
type layerCache struct {
	*trivycache.MemoryCache
	dir string

	mu    sync.Mutex
	warns []string
}

// openLayerCache returns a layer cache in dir, or a memory cache when dir
// is empty.
func openLayerCache(dir string) (trivycache.Cache, error) {
	if dir == "" {
		return trivycache.NewMemoryCache(), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	return &layerCache{MemoryCache: trivycache.NewMemoryCache(), dir: dir}, nil
}

// path is where the entry keyed id lives: Trivy's keys are "sha256:" and
// 64 hex digits; any other key is not kept on disk.
func (c *layerCache) path(id string) (string, bool) {
	h, ok := strings.CutPrefix(id, "sha256:")
	if !ok || len(h) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	return filepath.Join(c.dir, h+".json"), true
}

// MissingBlobs loads the blobs it has on disk into memory first.
func (c *layerCache) MissingBlobs(ctx context.Context, artifactID string, blobIDs []string) (bool, []string, error) {
	for _, id := range blobIDs {
		if _, err := c.MemoryCache.GetBlob(ctx, id); err == nil {
			continue
		}
		p, ok := c.path(id)
		if !ok {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.warn(fmt.Sprintf("layer cache: %v", err))
			}
			continue
		}
		var info ftypes.BlobInfo
		if err := json.Unmarshal(b, &info); err != nil || info.SchemaVersion != ftypes.BlobJSONSchemaVersion {
			// Torn or from another Trivy: analyse again and overwrite.
			continue
		}
		now := time.Now()
		_ = os.Chtimes(p, now, now) // last use, for eviction
		if err := c.MemoryCache.PutBlob(ctx, id, info); err != nil {
			return false, nil, err
		}
	}
	return c.MemoryCache.MissingBlobs(ctx, artifactID, blobIDs)
}

// PutBlob writes the blob to disk and keeps in memory what a later run
// would read back, so a scan sees the same analysis whether it made it or
// found it.
func (c *layerCache) PutBlob(ctx context.Context, id string, info ftypes.BlobInfo) error {
	b, err := json.Marshal(info)
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	var back ftypes.BlobInfo
	if err := json.Unmarshal(b, &back); err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	if p, ok := c.path(id); ok {
		if err := writeAtomic(p, b); err != nil {
			// The scan goes on: the next one analyses this layer again.
			c.warn(fmt.Sprintf("layer cache: %v", err))
		}
	}
	return c.MemoryCache.PutBlob(ctx, id, back)
}

func (c *layerCache) warn(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.warns, msg) {
		c.warns = append(c.warns, msg)
	}
}

// Close evicts the entries used least recently past the bounds.
func (c *layerCache) Close() error {
	c.MemoryCache.Close()
	return c.evict(maxLayerEntries, maxLayerBytes)
}

func (c *layerCache) warnings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.warns)
}

// evict removes the least recently used entries until at most keep remain,
// taking at most size bytes.
func (c *layerCache) evict(keep int, size int64) error {
	if err := evictLRU(c.dir, keep, size); err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	return nil
}

// evictLRU removes the least recently used (last modified) .json entries
// of dir until at most keep remain, taking at most size bytes, and the
// temporary files of runs that died while writing. Entries another run
// removes meanwhile are not an error.
func evictLRU(dir string, keep int, size int64) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type entry struct {
		name string
		size int64
		used time.Time
	}
	var total int64
	var es []entry
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") && time.Since(info.ModTime()) > time.Hour {
			os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		es = append(es, entry{e.Name(), info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(es, func(a, b entry) int { return a.used.Compare(b.used) })
	for n := len(es); n > 0 && (n > keep || total > size); n-- {
		e := es[len(es)-n]
		if err := os.Remove(filepath.Join(dir, e.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		total -= e.size
	}
	return nil
}

// writeAtomic writes b to path through a temporary file in the same
// directory, so a reader sees the old entry, the new one, or none.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

var _ trivycache.Cache = (*layerCache)(nil)
