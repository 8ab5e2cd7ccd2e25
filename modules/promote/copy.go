package promote

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/pavedhq/paved/modules/registry"
)

// cosignSuffixes are the tags cosign's classic layout stores next to an
// image: "sha256-<hex>.sig", ".att" and ".sbom".
var cosignSuffixes = []string{"sig", "att", "sbom"}

// Copied is what Copy wrote.
type Copied struct {
	Digest    v1.Hash  `json:"digest"`
	Manifests int      `json:"manifests"` // the index and its platform manifests
	Artifacts []string `json:"artifacts"` // signatures, attestations, SBOMs and referrers, as written
}

// Copy copies the image or index at src to dst by digest, then everything
// stored about it and about each of its platform manifests: cosign's
// signature, attestation and SBOM tags, and OCI 1.1 referrers (through the
// referrers API or its tag fallback, which go-containerregistry maintains
// at the destination). It sets no other tag, so a failed copy leaves
// nothing a deployment could pull by tag.
//
// opts override paved's registry defaults (registry.Options). Each request
// is sent at most registry.Attempts times: Copy adds no retry of its own
// around go-containerregistry's.
func Copy(ctx context.Context, src name.Digest, dst name.Repository, opts ...remote.Option) (*Copied, error) {
	opts = registry.Options(ctx, opts...)
	desc, err := remote.Get(src, opts...)
	if err != nil {
		return nil, fmt.Errorf("copy: read %s: %w", src, err)
	}
	out := &Copied{Digest: desc.Digest}
	subjects := []v1.Hash{desc.Digest}
	target := dst.Digest(desc.Digest.String())
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("copy: read %s: %w", src, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("copy: read %s: %w", src, err)
		}
		for _, m := range im.Manifests {
			subjects = append(subjects, m.Digest)
		}
		// The platform manifests go first and the index last.
		if err := remote.WriteIndex(target, idx, opts...); err != nil {
			return nil, fmt.Errorf("copy %s to %s: %w", src, target, err)
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("copy: read %s: %w", src, err)
		}
		if err := remote.Write(target, img, opts...); err != nil {
			return nil, fmt.Errorf("copy %s to %s: %w", src, target, err)
		}
	}
	out.Manifests = len(subjects)

	for _, d := range subjects {
		for _, suffix := range cosignSuffixes {
			tag := fmt.Sprintf("%s-%s.%s", d.Algorithm, d.Hex, suffix)
			written, err := copyIfPresent(ctx, src.Context().Tag(tag), dst.Tag(tag), opts)
			if err != nil {
				return nil, err
			}
			if written != "" {
				out.Artifacts = append(out.Artifacts, written)
			}
		}
		refs, err := remote.Referrers(src.Context().Digest(d.String()), opts...)
		if err != nil {
			return nil, fmt.Errorf("copy: referrers of %s@%s: %w", src.Context(), d, err)
		}
		im, err := refs.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("copy: referrers of %s@%s: %w", src.Context(), d, err)
		}
		for _, m := range im.Manifests {
			written, err := copyIfPresent(ctx, src.Context().Digest(m.Digest.String()), dst.Digest(m.Digest.String()), opts)
			if err != nil {
				return nil, err
			}
			if written != "" {
				out.Artifacts = append(out.Artifacts, written)
			}
		}
	}
	return out, nil
}

// copyIfPresent copies one manifest and its blobs; it returns "" when src
// does not exist.
func copyIfPresent(ctx context.Context, src, dst name.Reference, opts []remote.Option) (string, error) {
	desc, err := remote.Get(src, opts...)
	if notFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("copy: read %s: %w", src, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err == nil {
			err = remote.WriteIndex(dst, idx, opts...)
		}
		if err != nil {
			return "", fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	} else {
		img, err := desc.Image()
		if err == nil {
			err = remote.Write(dst, img, opts...)
		}
		if err != nil {
			return "", fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}
	if _, ok := dst.(name.Tag); ok {
		return dst.String(), nil
	}
	return dst.Context().String() + "@" + desc.Digest.String(), nil
}

// notFound reports a registry's answer that a manifest does not exist.
func notFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}
