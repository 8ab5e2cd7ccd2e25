package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/pavedhq/paved/modules/registry"
)

// AnnotationRefName tags an entry of an OCI image layout's index.json.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// Publish writes idx to t and tags it with tags (which may be empty). Only
// blobs the target lacks are written, and the index manifest goes last, so a
// failure never leaves a tag on a partial image. It returns the published
// reference, "REPO@sha256:HEX" or "oci:DIR@sha256:HEX". opts (auth, transport)
// apply to registry targets and override paved's defaults (registry.Options).
func Publish(ctx context.Context, idx v1.ImageIndex, t Target, tags []string, opts ...remote.Option) (string, error) {
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	switch t := t.(type) {
	case RegistryTarget:
		return publishRegistry(ctx, idx, d, t.Repo, tags, opts)
	case LayoutTarget:
		return publishLayout(idx, d, t.Dir, tags)
	}
	return "", fmt.Errorf("publish: unsupported target %T (%s)", t, t)
}

func publishRegistry(ctx context.Context, idx v1.ImageIndex, d v1.Hash, repo name.Repository, tags []string, opts []remote.Option) (string, error) {
	host := repo.RegistryStr()
	refs := make([]name.Tag, len(tags))
	for i, tag := range tags {
		ref, err := name.NewTag(repo.String() + ":" + tag)
		if err != nil {
			return "", fmt.Errorf("publish to %s: tag %q: %w", repo, tag, err)
		}
		refs[i] = ref
	}
	ro := registry.Options(ctx, opts...)
	dref := repo.Digest(d.String())
	if err := remote.WriteIndex(dref, idx, ro...); err != nil {
		return "", fmt.Errorf("publish %s to registry %s: %w", dref, host, err)
	}
	for _, ref := range refs {
		if err := remote.Tag(ref, idx, ro...); err != nil {
			return "", fmt.Errorf("tag %s on registry %s: %w", ref, host, err)
		}
	}
	return dref.String(), nil
}

func publishLayout(idx v1.ImageIndex, d v1.Hash, dir string, tags []string) (string, error) {
	for _, tag := range tags {
		if _, err := name.NewTag("example.com/x:" + tag); err != nil {
			return "", fmt.Errorf("publish to layout %s: tag %q: %w", dir, tag, err)
		}
	}
	p, err := layout.FromPath(dir)
	if errors.Is(err, fs.ErrNotExist) {
		p, err = layout.Write(dir, empty.Index)
	}
	if err != nil {
		return "", fmt.Errorf("publish to layout %s: %w", dir, err)
	}
	ref := "oci:" + dir + "@" + d.String()
	if len(tags) == 0 {
		// Without a tag, publishing the same index twice keeps one entry.
		have, err := inLayout(p, d)
		if err != nil {
			return "", fmt.Errorf("publish to layout %s: %w", dir, err)
		}
		if !have {
			if err := p.AppendIndex(idx); err != nil {
				return "", fmt.Errorf("publish to layout %s: %w", dir, err)
			}
		}
		return ref, nil
	}
	for _, tag := range tags {
		// Replacing by ref.name moves the tag off an older index.
		err := p.ReplaceIndex(idx, func(desc v1.Descriptor) bool { return desc.Annotations[AnnotationRefName] == tag },
			layout.WithAnnotations(map[string]string{AnnotationRefName: tag}))
		if err != nil {
			return "", fmt.Errorf("publish to layout %s: tag %s: %w", dir, tag, err)
		}
	}
	return ref, nil
}

// Published reports whether t already holds the manifest with this digest.
func Published(ctx context.Context, t Target, digest v1.Hash, opts ...remote.Option) (bool, error) {
	switch t := t.(type) {
	case RegistryTarget:
		_, err := remote.Head(t.Repo.Digest(digest.String()), registry.Options(ctx, opts...)...)
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("checking %s@%s on registry %s: %w", t.Repo, digest, t.Repo.RegistryStr(), err)
		}
		return true, nil
	case LayoutTarget:
		p, err := layout.FromPath(t.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("checking layout %s: %w", t.Dir, err)
		}
		ok, err := inLayout(p, digest)
		if err != nil {
			return false, fmt.Errorf("checking layout %s: %w", t.Dir, err)
		}
		return ok, nil
	}
	return false, fmt.Errorf("published: unsupported target %T (%s)", t, t)
}

// inLayout reports whether index.json lists digest.
func inLayout(p layout.Path, digest v1.Hash) (bool, error) {
	ii, err := p.ImageIndex()
	if err != nil {
		return false, err
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return false, err
	}
	for _, desc := range im.Manifests {
		if desc.Digest == digest {
			return true, nil
		}
	}
	return false, nil
}
