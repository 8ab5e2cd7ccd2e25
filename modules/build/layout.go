package build

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// WriteLayout stores idx as the OCI image layout in dir: its manifests become
// the entries of dir/index.json, which is written last, and ReadLayout returns
// an index with the same digest.
func WriteLayout(dir string, idx v1.ImageIndex) error {
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("writing layout %s: %w", dir, err)
	}
	return nil
}

// ReadLayout returns the index that WriteLayout stored in dir. Blobs are read
// lazily, when something asks for them.
func ReadLayout(dir string) (v1.ImageIndex, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading layout %s: %w", dir, err)
	}
	return idx, nil
}
