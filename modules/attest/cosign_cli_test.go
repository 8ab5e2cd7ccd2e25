package attest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/modules/sign"
)

// TestCosignCLIVerifiesAttestations checks paved's attestations with the
// cosign CLI's verify-attestation, type by type.
func TestCosignCLIVerifiesAttestations(t *testing.T) {
	for _, v := range []string{testtools.CosignV3, testtools.CosignV2} {
		t.Run(v, func(t *testing.T) {
			cosign := testtools.Cosign(t, v)
			ctx := context.Background()
			host := newRegistry(t)
			ref := pushIndex(t, host)
			kp := newKeyPair(t, "pw")
			s := loadKey(t, kp)
			prov, err := Provenance(subjectOf(t, ref), sampleProvenance())
			if err != nil {
				t.Fatal(err)
			}
			spdx, err := Predicate(subjectOf(t, ref), SPDX, json.RawMessage(spdxDoc))
			if err != nil {
				t.Fatal(err)
			}
			cdx, err := Predicate(subjectOf(t, ref), CycloneDX, json.RawMessage(cyclonedxDoc))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range []*Statement{prov, spdx, cdx} {
				if _, err := Attach(ctx, ref, st, s); err != nil {
					t.Fatal(err)
				}
			}
			env := testtools.CosignEnv(t)
			other := newKeyPair(t, "pw2")
			for typ, want := range map[string]string{"slsaprovenance1": SLSAProvenance, "spdxjson": SPDX, "cyclonedx": CycloneDX} {
				args := []string{"verify-attestation", "--key", kp.Pub, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry", "--type", typ, ref.String()}
				out, err := testtools.Run(t, env, cosign, args...)
				if err != nil {
					t.Fatalf("cosign %s verify-attestation --type %s: %v\n%s", v, typ, err, out)
				}
				if !strings.Contains(out, `"predicateType":"`+want+`"`) && !strings.Contains(out, `"payloadType":"application/vnd.in-toto+json"`) {
					t.Errorf("cosign %s --type %s output holds no %s attestation:\n%s", v, typ, want, out)
				}
				args[2] = other.Pub
				if out, err := testtools.Run(t, env, cosign, args...); err == nil {
					t.Errorf("cosign %s verify-attestation --type %s with another key succeeded:\n%s", v, typ, out)
				}
			}
		})
	}
}

// TestVerifiesCosignBundleAttestations attests with the cosign v3 CLI's
// default, a Sigstore bundle stored as an OCI referrer, and checks that
// Verify finds the statement by type with the right key only.
func TestVerifiesCosignBundleAttestations(t *testing.T) {
	cosign := testtools.Cosign(t, testtools.CosignV3)
	ctx := context.Background()
	host := newRegistry(t)
	ref := pushIndex(t, host)
	kp := newKeyPair(t, "pw")
	st, err := Provenance(subjectOf(t, ref), sampleProvenance())
	if err != nil {
		t.Fatal(err)
	}
	pred := filepath.Join(t.TempDir(), "provenance.json")
	if err := os.WriteFile(pred, st.Predicate, 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(testtools.CosignEnv(t), "COSIGN_PASSWORD=pw")
	out, err := testtools.Run(t, env, cosign, "attest", "--key", kp.Priv, "--type", "slsaprovenance1", "--predicate", pred,
		"--tlog-upload=false", "--use-signing-config=false", "--allow-insecure-registry", "--allow-http-registry", "-y", ref.String())
	if err != nil {
		t.Fatalf("cosign attest: %v\n%s", err, out)
	}
	got, err := Verify(ctx, ref, SLSAProvenance, sign.Policy{Key: kp.Pub})
	if err != nil {
		t.Fatalf("Verify of a cosign v3 bundle attestation: %v", err)
	}
	if len(got) != 1 || got[0].PredicateType != SLSAProvenance {
		t.Fatalf("statements %+v", got)
	}
	if _, err := Verify(ctx, ref, SPDX, sign.Policy{Key: kp.Pub}); err == nil {
		t.Error("Verify found an SPDX attestation that was never made")
	}
	if _, err := Verify(ctx, ref, SLSAProvenance, sign.Policy{Key: newKeyPair(t, "x").Pub}); err == nil {
		t.Error("Verify accepted another key")
	}
}
