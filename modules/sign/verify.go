package sign

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	csig "github.com/sigstore/cosign/v3/pkg/signature"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Policy says whose signatures are accepted: those of a public key, or those
// of a keyless identity certified by a trusted Fulcio.
type Policy struct {
	// Key is a PEM public key file or a KMS URI. Key signatures carry no
	// transparency log entry, so the log is not consulted.
	Key string

	// Issuer is the OIDC issuer and Identity (exact) or IdentityRegexp the
	// certificate identity (email, URI) a keyless signature must carry.
	Issuer, Identity, IdentityRegexp string
	// TrustedRoot is a Sigstore trusted_root.json with the Fulcio, Rekor and
	// CT log keys; empty means the public-good instance's, fetched with TUF.
	TrustedRoot string
}

// Verify checks the signatures stored for ref against p and returns those
// that verify; it fails when none does.
func Verify(ctx context.Context, ref name.Digest, p Policy, opts ...remote.Option) ([]Signature, error) {
	co, err := p.CheckOpts(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	co.ClaimVerifier = cosign.SimpleClaimVerifier
	sigs, _, err := cosign.VerifyImageSignatures(ctx, ref, co)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	tag, err := ociremote.SignatureTag(ref, co.RegistryClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	out := make([]Signature, len(sigs))
	for i := range sigs {
		out[i] = Signature{Subject: ref.DigestStr(), Ref: tag.String()}
	}
	return out, nil
}

// CheckOpts turns p into cosign's verification options, with registry
// access from ctx and opts. The attest module verifies attestations with it.
func (p Policy) CheckOpts(ctx context.Context, opts ...remote.Option) (*cosign.CheckOpts, error) {
	co := &cosign.CheckOpts{RegistryClientOpts: OCIOptions(ctx, opts...)}
	keyless := p.Issuer != "" || p.Identity != "" || p.IdentityRegexp != ""
	switch {
	case p.Key != "" && keyless:
		return nil, errors.New("policy: a key and a keyless identity are exclusive")
	case p.Key != "":
		v, err := csig.LoadPublicKey(ctx, p.Key)
		if err != nil {
			return nil, fmt.Errorf("policy: public key %s: %w", p.Key, err)
		}
		co.SigVerifier = v
		co.IgnoreTlog = true
		return co, nil
	case p.Issuer == "" || (p.Identity == "" && p.IdentityRegexp == ""):
		return nil, errors.New("policy: a public key, or an issuer and an identity, are required")
	}
	tm, err := trustedMaterial(p.TrustedRoot)
	if err != nil {
		return nil, err
	}
	co.TrustedMaterial = tm
	co.Identities = []cosign.Identity{{Issuer: p.Issuer, Subject: p.Identity, SubjectRegExp: p.IdentityRegexp}}
	// Keyless signatures must carry their Rekor entry: no online lookup.
	co.Offline = true
	return co, nil
}

func trustedMaterial(path string) (root.TrustedMaterial, error) {
	if path == "" {
		tm, err := cosign.TrustedRoot()
		if err != nil {
			return nil, fmt.Errorf("policy: public-good Sigstore trusted root: %w", err)
		}
		return tm, nil
	}
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("policy: trusted root %s: %w", path, err)
	}
	return tr, nil
}
