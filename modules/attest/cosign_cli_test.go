package attest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
)

// TestCosignCLIVerifiesAttestations checks paved's attestations with the
// cosign CLI's verify-attestation, type by type.
func TestCosignCLIVerifiesAttestations(t *testing.T) {
	for _, v := range []string{"v3.1.3", "v2.6.2"} {
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
