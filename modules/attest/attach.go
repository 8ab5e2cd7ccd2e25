package attest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/pavedhq/paved/modules/sign"
)

// Attestation is one attestation stored for an image.
type Attestation struct {
	PredicateType string
	// Subject is the attested manifest's digest, "sha256:<hex>".
	Subject string
	// Digest is the digest of the stored DSSE envelope (the layer under the
	// .att tag).
	Digest string
}

// Attach signs st as a DSSE envelope with s and appends it to ref's
// attestations (tag sha256-<hex>.att, cosign's classic layout), annotated
// with its predicate type. Attaching the same statement again with the same
// key adds nothing.
func Attach(ctx context.Context, ref name.Digest, st *Statement, s *sign.Signer, opts ...remote.Option) (Attestation, error) {
	if err := st.Validate(); err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", ref, err)
	}
	if !about(st, ref) {
		return Attestation{}, fmt.Errorf("attest %s: no subject of the %s statement has this digest", ref, st.PredicateType)
	}
	payload, err := st.MarshalJSON()
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", ref, err)
	}
	oro := sign.OCIOptions(ctx, opts...)
	entity := ociremote.SignedUnknown(ref, oro...)
	// DSSE signatures are randomized, so cosign's duplicate detection, which
	// compares envelopes, would store the same statement again: compare the
	// statements before signing instead.
	if d, ok, err := findAttestation(entity, payload, s); err != nil {
		return Attestation{}, fmt.Errorf("attest %s: registry %s: %w", ref, ref.RegistryStr(), err)
	} else if ok {
		return Attestation{PredicateType: st.PredicateType, Subject: ref.DigestStr(), Digest: d.String()}, nil
	}
	att, err := s.Attestation(ctx, payload, map[string]string{"predicateType": st.PredicateType})
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", ref, err)
	}
	se, err := mutate.AttachAttestationToEntity(entity, att)
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", ref, err)
	}
	if err := ociremote.WriteAttestations(ref.Repository, se, oro...); err != nil {
		return Attestation{}, fmt.Errorf("attest %s: write attestation to registry %s: %w", ref, ref.RegistryStr(), err)
	}
	d, err := att.Digest()
	if err != nil {
		return Attestation{}, fmt.Errorf("attest %s: %w", ref, err)
	}
	return Attestation{PredicateType: st.PredicateType, Subject: ref.DigestStr(), Digest: d.String()}, nil
}

// about reports whether one of st's subjects is ref's manifest.
func about(st *Statement, ref name.Digest) bool {
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return false
	}
	for _, s := range st.Subject {
		if s.Digest == h {
			return true
		}
	}
	return false
}

// findAttestation returns the stored attestation whose envelope carries
// statement and verifies with v.
func findAttestation(se oci.SignedEntity, statement []byte, v signature.Verifier) (v1.Hash, bool, error) {
	atts, err := se.Attestations()
	if err != nil {
		return v1.Hash{}, false, err
	}
	layers, err := atts.Get()
	if err != nil {
		return v1.Hash{}, false, err
	}
	for _, l := range layers {
		env, err := l.Payload()
		if err != nil {
			return v1.Hash{}, false, err
		}
		pl, err := envelopePayload(env)
		if err != nil || !bytes.Equal(pl, statement) {
			continue
		}
		if err := dsse.WrapVerifier(v).VerifySignature(bytes.NewReader(env), nil); err != nil {
			continue
		}
		d, err := l.Digest()
		if err != nil {
			return v1.Hash{}, false, err
		}
		return d, true, nil
	}
	return v1.Hash{}, false, nil
}
