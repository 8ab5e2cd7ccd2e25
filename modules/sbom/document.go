package sbom

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Document is one SBOM file written to disk.
type Document struct {
	Format  Format
	Subject string  // the platform ("linux/amd64") or "source"
	Path    string  // the file
	Digest  v1.Hash // sha256 of the file's bytes
}

// prepare creates the output directory before any work, so that a bad one
// fails fast.
func prepare(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating SBOM directory: %w", err)
	}
	return nil
}

// writeDocument writes b to dir/name through a temporary file and a rename,
// so a reader never sees half a document under the final name.
func writeDocument(dir, name string, b []byte) (Document, error) {
	if err := prepare(dir); err != nil {
		return Document{}, err
	}
	p := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return Document{}, fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return Document{}, fmt.Errorf("writing %s: %w", p, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return Document{}, fmt.Errorf("writing %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return Document{}, fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return Document{}, fmt.Errorf("writing %s: %w", p, err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return Document{}, fmt.Errorf("hashing %s: %w", p, err)
	}
	return Document{Path: p, Digest: h}, nil
}
