package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/cosign"

	"github.com/pavedhq/paved/modules/sign"
)

// Verify returns the statements about ref, of predicateType (all types when
// empty), whose DSSE signatures satisfy p. It reads cosign's classic ".att"
// tag and the Sigstore bundles (OCI referrers) cosign v3 writes by default,
// and fails when neither holds a statement that verifies.
func Verify(ctx context.Context, ref name.Digest, predicateType string, p sign.Policy, opts ...remote.Option) ([]*Statement, error) {
	co, err := p.CheckOpts(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("verify attestations of %s: %w", ref, err)
	}
	// The statement's subjects must name ref, so an attestation copied from
	// another image does not verify.
	co.ClaimVerifier = cosign.IntotoSubjectClaimVerifier
	atts, _, classicErr := cosign.VerifyImageAttestations(ctx, ref, co)
	var out []*Statement
	for _, att := range atts {
		env, err := att.Payload()
		if err != nil {
			return nil, fmt.Errorf("verify attestations of %s: %w", ref, err)
		}
		if out, err = appendStatement(out, env, predicateType); err != nil {
			return nil, fmt.Errorf("verify attestations of %s: %w", ref, err)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	bundled, bundleErr := sign.VerifyBundles(ctx, ref, p, predicateType, opts...)
	for _, env := range bundled {
		if out, err = appendStatement(out, env, predicateType); err != nil {
			return nil, fmt.Errorf("verify attestations of %s: %w", ref, err)
		}
	}
	if len(out) == 0 {
		if classicErr != nil {
			return nil, fmt.Errorf("verify attestations of %s: %w", ref, errors.Join(classicErr, bundleErr))
		}
		return nil, fmt.Errorf("verify attestations of %s: none of type %s verified", ref, predicateType)
	}
	return out, nil
}

func appendStatement(out []*Statement, env []byte, predicateType string) ([]*Statement, error) {
	st, err := parseEnvelope(env)
	if err != nil {
		return out, err
	}
	if predicateType == "" || st.PredicateType == predicateType {
		out = append(out, st)
	}
	return out, nil
}

// parseEnvelope decodes the in-toto statement in a DSSE envelope whose
// signature has been verified.
func parseEnvelope(b []byte) (*Statement, error) {
	pl, err := envelopePayload(b)
	if err != nil {
		return nil, err
	}
	var st Statement
	if err := st.UnmarshalJSON(pl); err != nil {
		return nil, err
	}
	return &st, nil
}

// envelopePayload returns the in-toto payload of a DSSE envelope, without
// checking its signature.
func envelopePayload(b []byte) ([]byte, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if env.PayloadType != sign.InTotoPayloadType {
		return nil, fmt.Errorf("DSSE envelope: payload type %q, want %q", env.PayloadType, sign.InTotoPayloadType)
	}
	pl, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("DSSE envelope: payload: %w", err)
	}
	return pl, nil
}
