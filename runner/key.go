package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyBuilder accumulates a step's inputs into a cache key. Every input is
// written with its name and length, so no two different input sets collide
// by concatenation.
type KeyBuilder struct {
	h hash.Hash
}

// NewKey starts a key.
func NewKey() *KeyBuilder { return &KeyBuilder{h: sha256.New()} }

// String adds a named value.
func (k *KeyBuilder) String(name, v string) *KeyBuilder {
	fmt.Fprintf(k.h, "%d:%s=%d:%s\n", len(name), name, len(v), v)
	return k
}

// JSON adds a named value by its JSON encoding.
func (k *KeyBuilder) JSON(name string, v any) *KeyBuilder {
	b, err := json.Marshal(v)
	if err != nil {
		// Values given here are plain settings structs; failing to encode
		// one is a programming error.
		panic(fmt.Sprintf("runner: key input %s: %v", name, err))
	}
	return k.String(name, string(b))
}

// Dir adds every file under dir: path, executable bit and content. Entries
// for which skip returns true are left out (a directory with all it holds).
func (k *KeyBuilder) Dir(name, dir string, skip func(rel string, d fs.DirEntry) bool) error {
	k.String("dir", name)
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			k.String("link:"+rel, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			sum, err := fileSHA256(path)
			if err != nil {
				return err
			}
			k.String(fmt.Sprintf("file:%s:%t", rel, info.Mode()&0o111 != 0), sum)
		}
		return nil
	})
}

// Sum returns the key as hex.
func (k *KeyBuilder) Sum() string { return hex.EncodeToString(k.h.Sum(nil)) }

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
