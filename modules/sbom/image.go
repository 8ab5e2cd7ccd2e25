package sbom

import (
	"context"
	"errors"
	"fmt"
	"strings"

	stereofile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/stereoscope/pkg/image"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/stereoscopesource"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// indexParallelism bounds how many platforms of an index are cataloged at
// once: each holds its unpacked layers and file trees, and Syft already
// spreads one catalog over the CPUs.
const indexParallelism = 2

// Image writes one SBOM per format describing img into dir, named after
// the image's platform ("linux-amd64.spdx.json"). name is the image's
// reference, used as the document and source name. With no formats, every
// Format is written. The documents' creation time is the image config's
// (SOURCE_DATE_EPOCH, else now, when the config has none).
func Image(ctx context.Context, img v1.Image, name string, dir string, formats ...Format) ([]Document, error) {
	warmLicenseScanner()
	formats, err := checkFormats(formats)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := prepare(dir); err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", name, err)
	}
	return imageDocs(ctx, img, cf, name, platformOf(cf.Platform()), dir, formats)
}

// Index does Image for every platform manifest of idx, a few platforms at a
// time. Documents come back in the index's order, formats within each
// platform in the order given.
func Index(ctx context.Context, idx v1.ImageIndex, name string, dir string, formats ...Format) ([]Document, error) {
	warmLicenseScanner()
	formats, err := checkFormats(formats)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := prepare(dir); err != nil {
		return nil, err
	}
	descs, err := imageManifests(idx)
	if err != nil {
		return nil, fmt.Errorf("reading index %s: %w", name, err)
	}
	if len(descs) == 0 {
		return nil, fmt.Errorf("index %s has no image manifests", name)
	}

	// A platform listed twice for the same manifest is cataloged once; two
	// manifests for one platform would write the same files.
	subjects := make(map[string]v1.Hash, len(descs))
	uniq := descs[:0]
	for _, d := range descs {
		s := platformOf(d.desc.Platform)
		if prev, ok := subjects[s]; ok {
			if prev != d.desc.Digest {
				return nil, fmt.Errorf("index %s has two manifests for platform %s", name, s)
			}
			continue
		}
		subjects[s] = d.desc.Digest
		uniq = append(uniq, d)
	}
	descs = uniq

	results := make([][]Document, len(descs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(indexParallelism)
	for i, d := range descs {
		g.Go(func() error {
			img, err := d.parent.Image(d.desc.Digest)
			if err != nil {
				return fmt.Errorf("reading %s@%s: %w", name, d.desc.Digest, err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return fmt.Errorf("reading config of %s@%s: %w", name, d.desc.Digest, err)
			}
			subject := platformOf(d.desc.Platform)
			if d.desc.Platform == nil {
				subject = platformOf(cf.Platform())
			}
			docs, err := imageDocs(gctx, img, cf, name, subject, dir, formats)
			results[i] = docs
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var docs []Document
	for _, r := range results {
		docs = append(docs, r...)
	}
	return docs, nil
}

// manifest is an image manifest and the index that lists it.
type manifest struct {
	parent v1.ImageIndex
	desc   v1.Descriptor
}

// imageManifests lists the image manifests of idx and of the indexes it
// nests, skipping attestation manifests (which buildx marks unknown/unknown).
func imageManifests(idx v1.ImageIndex) ([]manifest, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []manifest
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			nested, err := imageManifests(child)
			if err != nil {
				return nil, err
			}
			out = append(out, nested...)
		case d.MediaType.IsImage():
			if d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown" {
				continue
			}
			out = append(out, manifest{parent: idx, desc: d})
		}
	}
	return out, nil
}

// imageDocs catalogs one image and writes its documents.
func imageDocs(ctx context.Context, img v1.Image, cf *v1.ConfigFile, name, subject, dir string, formats []Format) ([]Document, error) {
	s, err := catalogImage(ctx, img, name, subject)
	if err != nil {
		return nil, err
	}
	at, err := creationTime(cf.Created.Time)
	if err != nil {
		return nil, err
	}
	return emit(ctx, s, subject, fileName(subject), dir, at, formats)
}

// catalogImage unpacks img and catalogs its squashed file system.
func catalogImage(ctx context.Context, img v1.Image, name, subject string) (s *syftsbom.SBOM, err error) {
	err = withSource(ctx, img, name, subject, func(src source.Source) error {
		s, err = catalog(ctx, src)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, subject, err)
	}
	return s, nil
}

// withSource unpacks img's layers into a temporary directory and calls fn
// with img as a Syft source; the directory goes when fn returns.
func withSource(ctx context.Context, img v1.Image, name, subject string, fn func(source.Source) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("digest of %s (%s): %w", name, subject, err)
	}
	meta := []image.AdditionalMetadata{image.WithManifestDigest(digest.String())}
	if raw, err := img.RawManifest(); err == nil {
		meta = append(meta, image.WithManifest(raw))
	}

	// Stereoscope unpacks the layers under a temporary directory of its own.
	tmp := stereofile.NewTempDirGenerator("paved-sbom")
	defer func() { err = errors.Join(err, tmp.Cleanup()) }()
	content, err := tmp.NewDirectory("image")
	if err != nil {
		return fmt.Errorf("temporary directory for %s: %w", name, err)
	}
	simg := image.New(img, tmp, content, meta...)
	defer func() { err = errors.Join(err, simg.Cleanup()) }()
	// Only the squashed tree is cataloged, so lower layers' squashes are
	// built only if something asks for them (as Syft's own provider does).
	if err := simg.Read(image.WithLazyLayerSquashes(ctx)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("reading layers of %s (%s): %w", name, subject, err)
	}
	return fn(stereoscopesource.New(simg, stereoscopesource.ImageConfig{Reference: name}))
}

// platformOf names a platform as it is written ("linux/arm64/v8"); an image
// without one is "image".
func platformOf(p *v1.Platform) string {
	if p == nil || p.OS == "" && p.Architecture == "" {
		return "image"
	}
	return p.String()
}

// fileName turns a subject into a file name stem: "linux/amd64" becomes
// "linux-amd64"; characters unsafe in file names become "-".
func fileName(subject string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, subject)
}
