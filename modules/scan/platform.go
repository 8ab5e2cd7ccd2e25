package scan

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type platformImage struct {
	platform string
	img      v1.Image
}

// platformImages lists the images of an index, nested indexes included,
// with their platform. Manifests for platform unknown/unknown (build
// attestations stored beside the images) carry no software and are skipped.
func platformImages(idx v1.ImageIndex) ([]platformImage, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("image index: %w", err)
	}
	var out []platformImage
	for _, desc := range m.Manifests {
		switch {
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return nil, fmt.Errorf("image index %s: %w", desc.Digest, err)
			}
			imgs, err := platformImages(child)
			if err != nil {
				return nil, err
			}
			out = append(out, imgs...)
		case desc.MediaType.IsImage():
			img, err := idx.Image(desc.Digest)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", desc.Digest, err)
			}
			p := desc.Platform
			if p == nil {
				cf, err := img.ConfigFile()
				if err != nil {
					return nil, fmt.Errorf("image %s: config: %w", desc.Digest, err)
				}
				p = cf.Platform()
			}
			if p == nil || p.OS == "unknown" || p.OS == "" {
				continue
			}
			out = append(out, platformImage{platform: p.String(), img: img})
		}
	}
	return out, nil
}
