package sign

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
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
// that verify; it fails when none does. Both of cosign's layouts count: the
// classic ".sig" tag paved writes, and the Sigstore bundles stored as OCI
// referrers that cosign v3 writes by default.
func Verify(ctx context.Context, ref name.Digest, p Policy, opts ...remote.Option) ([]Signature, error) {
	co, err := p.CheckOpts(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, err)
	}
	co.ClaimVerifier = cosign.SimpleClaimVerifier
	sigs, _, classicErr := cosign.VerifyImageSignatures(ctx, ref, co)
	if classicErr == nil {
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
	out, err := verifyBundles(ctx, ref, co, CosignSignPredicateType)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", ref, errors.Join(classicErr, err))
	}
	sigsOut := make([]Signature, len(out))
	for i := range out {
		sigsOut[i] = Signature{Subject: ref.DigestStr(), Ref: ref.Context().String() + " (Sigstore bundle, OCI referrer)"}
	}
	return sigsOut, nil
}

// CosignSignPredicateType is the statement cosign v3 signs an image with in
// the bundle format.
const CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"

// VerifyBundles returns the DSSE envelopes of ref's Sigstore bundles (OCI
// referrers) that verify against co and carry predicateType ("" for any).
func VerifyBundles(ctx context.Context, ref name.Digest, p Policy, predicateType string, opts ...remote.Option) ([][]byte, error) {
	co, err := p.CheckOpts(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return verifyBundles(ctx, ref, co, predicateType)
}

func verifyBundles(ctx context.Context, ref name.Digest, co *cosign.CheckOpts, predicateType string) ([][]byte, error) {
	bundles, _, err := cosign.GetBundles(ctx, ref, co.RegistryClientOpts)
	if err != nil {
		return nil, fmt.Errorf("reading Sigstore bundles: %w", err)
	}
	if len(bundles) == 0 {
		return nil, errors.New("no Sigstore bundle either")
	}
	bco := *co
	bco.NewBundleFormat = true
	bco.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
	atts, _, err := cosign.VerifyImageAttestations(ctx, ref, &bco)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, a := range atts {
		env, err := a.Payload()
		if err != nil {
			return nil, err
		}
		var e struct {
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal(env, &e); err != nil {
			return nil, fmt.Errorf("DSSE envelope: %w", err)
		}
		pl, err := base64.StdEncoding.DecodeString(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("DSSE payload: %w", err)
		}
		var st struct {
			PredicateType string `json:"predicateType"`
		}
		if err := json.Unmarshal(pl, &st); err != nil {
			return nil, fmt.Errorf("in-toto statement: %w", err)
		}
		if predicateType == "" || st.PredicateType == predicateType {
			out = append(out, env)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no verified Sigstore bundle of type %s", predicateType)
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
		v, err := loadPublicKey(ctx, p.Key)
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
		return nil, fmt.Errorf("policy: %w", err)
	}
	co.TrustedMaterial = tm
	co.Identities = []cosign.Identity{{Issuer: p.Issuer, Subject: p.Identity, SubjectRegExp: p.IdentityRegexp}}
	// Keyless signatures must carry their Rekor entry: no online lookup.
	co.Offline = true
	return co, nil
}

// trustedMaterial reads the trusted root at path, or fetches the
// public-good instance's with TUF when path is empty.
func trustedMaterial(path string) (root.TrustedMaterial, error) {
	if path == "" {
		tm, err := cosign.TrustedRoot()
		if err != nil {
			return nil, fmt.Errorf("public-good Sigstore trusted root: %w", err)
		}
		return tm, nil
	}
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("trusted root %s: %w", path, err)
	}
	return tr, nil
}
