package build

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/modules/registry"
)

// Base is the image a service is layered on.
type Base interface {
	// Name is recorded as org.opencontainers.image.base.name.
	Name() string
	// Digest pins the base for cache keys and provenance.
	Digest(ctx context.Context) (v1.Hash, error)
	// Image returns the base for one platform. Its blobs may be read
	// lazily with ctx, so ctx must outlive the use of the image.
	Image(ctx context.Context, p v1.Platform) (v1.Image, error)
}

var (
	_ Base = (*minimal)(nil)
	_ Base = (*remoteBase)(nil)
	_ Base = (*layoutBase)(nil)
)

// ParseBase reads a base the way users write it: "" or "paved" is Minimal,
// "oci:DIR" or "oci:DIR@sha256:HEX" an image or index in an OCI image layout,
// anything else a registry reference.
func ParseBase(s string, opts ...remote.Option) (Base, error) {
	switch {
	case s == "" || s == "paved":
		return Minimal(), nil
	case strings.HasPrefix(s, "oci:"):
		dir, dgst, _ := strings.Cut(strings.TrimPrefix(s, "oci:"), "@")
		if dir == "" {
			return nil, fmt.Errorf("base %q: missing layout directory after oci:", s)
		}
		b := &layoutBase{dir: dir}
		if dgst != "" {
			h, err := v1.NewHash(dgst)
			if err != nil {
				return nil, fmt.Errorf("base %q: %w", s, err)
			}
			b.digest = &h
		}
		return b, nil
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("base %q: %w", s, err)
	}
	return Remote(ref, opts...), nil
}

// Remote returns a base from a registry image or index, read with the same
// defaults (credentials, timeouts, retries) as Publish. The reference is
// resolved once and then pinned to its digest, so every platform of a build
// comes from the same index even if the tag moves meanwhile.
func Remote(ref name.Reference, opts ...remote.Option) Base {
	return &remoteBase{ref: ref, opts: opts}
}

type remoteBase struct {
	ref  name.Reference
	opts []remote.Option

	mu     sync.Mutex
	pinned *name.Digest
}

func (b *remoteBase) Name() string { return b.ref.String() }

func (b *remoteBase) get(ctx context.Context) (*remote.Descriptor, error) {
	b.mu.Lock()
	ref := b.ref
	if b.pinned != nil {
		ref = *b.pinned
	}
	b.mu.Unlock()

	desc, err := remote.Get(ref, registry.Options(ctx, b.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.ref, err)
	}
	b.mu.Lock()
	if b.pinned == nil {
		d := b.ref.Context().Digest(desc.Digest.String())
		b.pinned = &d
	}
	b.mu.Unlock()
	return desc, nil
}

func (b *remoteBase) Digest(ctx context.Context) (v1.Hash, error) {
	desc, err := b.get(ctx)
	if err != nil {
		return v1.Hash{}, err
	}
	return desc.Digest, nil
}

func (b *remoteBase) Image(ctx context.Context, p v1.Platform) (v1.Image, error) {
	desc, err := b.get(ctx)
	if err != nil {
		return nil, err
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", b.ref, err)
		}
		img, err = imageForPlatform(idx, p)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", b.ref, err)
		}
		return img, nil
	}
	img, err = desc.Image()
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", b.ref, err)
	}
	if err := checkPlatform(img, p); err != nil {
		return nil, fmt.Errorf("base %s: %w", b.ref, err)
	}
	return img, nil
}

// layoutBase is a base kept in an OCI image layout: useful offline, where no
// registry holds the base.
type layoutBase struct {
	dir    string
	digest *v1.Hash // optional: which entry of index.json
}

func (b *layoutBase) Name() string {
	if b.digest != nil {
		return "oci:" + b.dir + "@" + b.digest.String()
	}
	return "oci:" + b.dir
}

// resolve returns the image or index the layout names: the entry with the
// given digest, the only entry, or else the layout's index.json itself.
func (b *layoutBase) resolve() (v1.Hash, v1.ImageIndex, v1.Image, error) {
	fail := func(err error) (v1.Hash, v1.ImageIndex, v1.Image, error) {
		return v1.Hash{}, nil, nil, fmt.Errorf("base layout %s: %w", b.dir, err)
	}
	lp, err := layout.FromPath(b.dir)
	if err != nil {
		return fail(err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		return fail(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return fail(err)
	}
	var pick *v1.Descriptor
	switch {
	case b.digest != nil:
		for i := range im.Manifests {
			if im.Manifests[i].Digest == *b.digest {
				pick = &im.Manifests[i]
				break
			}
		}
		if pick == nil {
			return fail(fmt.Errorf("no manifest %s in index.json", b.digest))
		}
	case len(im.Manifests) == 1:
		pick = &im.Manifests[0]
	default:
		h, err := ii.Digest()
		if err != nil {
			return fail(err)
		}
		return h, ii, nil, nil
	}
	if pick.MediaType.IsIndex() {
		child, err := ii.ImageIndex(pick.Digest)
		if err != nil {
			return fail(err)
		}
		return pick.Digest, child, nil, nil
	}
	if !pick.MediaType.IsImage() {
		return fail(fmt.Errorf("manifest %s has media type %s, not an image or index", pick.Digest, pick.MediaType))
	}
	img, err := ii.Image(pick.Digest)
	if err != nil {
		return fail(err)
	}
	return pick.Digest, nil, img, nil
}

func (b *layoutBase) Digest(ctx context.Context) (v1.Hash, error) {
	h, _, _, err := b.resolve()
	return h, err
}

func (b *layoutBase) Image(ctx context.Context, p v1.Platform) (v1.Image, error) {
	_, idx, img, err := b.resolve()
	if err != nil {
		return nil, err
	}
	if idx != nil {
		img, err = imageForPlatform(idx, p)
	} else {
		err = checkPlatform(img, p)
	}
	if err != nil {
		return nil, fmt.Errorf("base layout %s: %w", b.dir, err)
	}
	return img, nil
}

// imageForPlatform picks the image for p from an index.
func imageForPlatform(idx v1.ImageIndex, p v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var have []string
	for _, d := range im.Manifests {
		if d.Platform == nil {
			continue
		}
		have = append(have, d.Platform.String())
		if platformMatches(*d.Platform, p) && d.MediaType.IsImage() {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("%w: no image for %s (index has %s)", ErrPlatform, p.String(), strings.Join(have, ", "))
}

// checkPlatform verifies a single-image base suits p.
func checkPlatform(img v1.Image, p v1.Platform) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	got := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if !platformMatches(got, p) {
		return fmt.Errorf("%w: image is %s, want %s", ErrPlatform, got.String(), p.String())
	}
	return nil
}

// ErrPlatform is returned when a base has no image for a requested platform.
var ErrPlatform = errors.New("platform not in base")

// platformMatches compares os, architecture and variant; a missing variant
// matches the architecture's default (arm64 is v8 unless stated).
func platformMatches(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	hv, wv := normVariant(have), normVariant(want)
	return wv == "" || hv == wv
}

func normVariant(p v1.Platform) string {
	if p.Architecture == "arm64" && p.Variant == "v8" {
		return ""
	}
	return p.Variant
}

// Keyer is a Base that can name its exact content more cheaply than by
// resolving its digest.
type Keyer interface {
	Key(ctx context.Context) (string, error)
}

// CacheKey names b's exact content for cache keys: its Key when it has one,
// else its name and digest.
func CacheKey(ctx context.Context, b Base) (string, error) {
	if k, ok := b.(Keyer); ok {
		return k.Key(ctx)
	}
	d, err := b.Digest(ctx)
	if err != nil {
		return "", err
	}
	return b.Name() + "@" + d.String(), nil
}
