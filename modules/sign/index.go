package sign

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/cosign/bundle"
	cremote "github.com/sigstore/cosign/v3/pkg/cosign/remote"
	"github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/pavedhq/paved/modules/registry"
)

// Signature is one signature stored for an image.
type Signature struct {
	// Subject is the signed manifest's digest, "sha256:<hex>".
	Subject string
	// Ref is where the signature is stored: "REPO:sha256-<hex>.sig".
	Ref string
}

// Index signs the index (or image) at ref and every manifest it lists, and
// stores each signature in the classic cosign layout. Signing again with the
// same key adds nothing; other signers' signatures are kept.
func Index(ctx context.Context, ref name.Digest, s *Signer, opts ...remote.Option) ([]Signature, error) {
	ro := remoteOptions(ctx, opts)
	subjects := []name.Digest{ref}
	desc, err := remote.Get(ref, ro...)
	if err != nil {
		return nil, fmt.Errorf("sign %s: registry %s: %w", ref, ref.RegistryStr(), err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("sign %s: %w", ref, err)
		}
		for _, m := range im.Manifests {
			subjects = append(subjects, ref.Context().Digest(m.Digest.String()))
		}
	}
	var out []Signature
	for _, d := range subjects {
		sig, err := s.signDigest(ctx, d, ro)
		if err != nil {
			return out, err
		}
		out = append(out, sig)
	}
	return out, nil
}

// signDigest signs one manifest digest and appends the signature to its
// .sig tag.
func (s *Signer) signDigest(ctx context.Context, d name.Digest, ro []remote.Option) (Signature, error) {
	pl, err := (&payload.Cosign{Image: d}).MarshalJSON()
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", d, err)
	}
	raw, err := s.SignMessage(bytes.NewReader(pl))
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", d, err)
	}
	var so []static.Option
	if len(s.Cert) > 0 {
		so = append(so, static.WithCertChain(s.Cert, s.Chain))
	}
	if s.rekor != nil {
		b, err := s.rekor.recordSignature(ctx, pl, raw, s.Cert)
		if err != nil {
			return Signature{}, fmt.Errorf("sign %s: %w", d, err)
		}
		so = append(so, static.WithBundle(b))
	}
	sig, err := static.NewSignature(pl, base64.StdEncoding.EncodeToString(raw), so...)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", d, err)
	}
	oro := []ociremote.Option{ociremote.WithRemoteOptions(ro...)}
	se, err := mutate.AttachSignatureToEntity(ociremote.SignedUnknown(d, oro...), sig, mutate.WithDupeDetector(cremote.NewDupeDetector(s)))
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", d, err)
	}
	if err := ociremote.WriteSignatures(d.Repository, se, oro...); err != nil {
		return Signature{}, fmt.Errorf("sign %s: write signature to registry %s: %w", d, d.RegistryStr(), err)
	}
	tag, err := ociremote.SignatureTag(d, oro...)
	if err != nil {
		return Signature{}, fmt.Errorf("sign %s: %w", d, err)
	}
	return Signature{Subject: d.DigestStr(), Ref: tag.String()}, nil
}

// Attestation signs an in-toto statement as a DSSE envelope and returns the
// layer cosign stores under the image's .att tag, annotated with
// annotations. A keyless signer also records the envelope in Rekor. It is
// the building block of the attest module.
func (s *Signer) Attestation(ctx context.Context, statement []byte, annotations map[string]string) (oci.Signature, error) {
	env, err := s.envelope(statement)
	if err != nil {
		return nil, err
	}
	so := []static.Option{static.WithLayerMediaType(dsseMediaType), static.WithAnnotations(annotations)}
	if len(s.Cert) > 0 {
		so = append(so, static.WithCertChain(s.Cert, s.Chain))
	}
	if s.rekor != nil {
		var b *bundle.RekorBundle
		if b, err = s.rekor.recordEnvelope(ctx, env, statement, s.Cert); err != nil {
			return nil, err
		}
		so = append(so, static.WithBundle(b))
	}
	return static.NewAttestation(env, so...)
}

// remoteOptions puts paved's registry defaults (registry.Options) first,
// so callers' options (auth, transport) override them.
func remoteOptions(ctx context.Context, opts []remote.Option) []remote.Option {
	return registry.Options(ctx, opts...)
}

// OCIOptions are the options cosign's registry functions take, built from
// ctx and opts as Index and Verify build them; the attest module uses them.
func OCIOptions(ctx context.Context, opts ...remote.Option) []ociremote.Option {
	return []ociremote.Option{ociremote.WithRemoteOptions(remoteOptions(ctx, opts)...)}
}
