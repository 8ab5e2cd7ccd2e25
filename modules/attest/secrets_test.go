package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/modules/sign"
)

// TestNoSecretsInRegistry attaches attestations with a key and keyless,
// then reads back every manifest and blob: neither the private key, its
// password nor the OIDC token may appear.
func TestNoSecretsInRegistry(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	ref := pushIndex(t, host)
	kp := newKeyPair(t, "s3cret-Pa55word")
	prov, err := Provenance(subjectOf(t, ref), sampleProvenance())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(ctx, ref, prov, loadKey(t, kp)); err != nil {
		t.Fatal(err)
	}
	f := testtools.NewSigstore(t)
	token := f.Token("ci@example.test")
	ks, err := sign.Keyless(ctx, sign.KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: token})
	if err != nil {
		t.Fatal(err)
	}
	sbom, _ := Predicate(subjectOf(t, ref), SPDX, json.RawMessage(spdxDoc))
	if _, err := Attach(ctx, ref, sbom, ks); err != nil {
		t.Fatal(err)
	}

	secrets := []string{string(kp.Password), string(kp.PrivPEM), token}
	if block, _ := pem.Decode(kp.PrivPEM); block != nil {
		b64 := base64.StdEncoding.EncodeToString(block.Bytes)
		secrets = append(secrets, b64[:40], b64[len(b64)/2:len(b64)/2+40])
	}
	stored := testtools.RegistryContents(t, host)
	if len(stored) < 4 {
		t.Fatalf("read back only %d objects", len(stored))
	}
	for what, b := range stored {
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s contains a secret (%.12q...)", what, sec)
			}
		}
	}
	for _, req := range f.Requests() {
		for _, sec := range secrets[:2] {
			if strings.Contains(req, sec) {
				t.Errorf("a Sigstore request contains a secret (%.12q...)", sec)
			}
		}
	}
	// Errors along the way carry no secret either.
	if _, err := sign.LoadKey(ctx, kp.Priv, []byte("wr0ng-Pa55")); err == nil || strings.Contains(err.Error(), "wr0ng-Pa55") {
		t.Errorf("LoadKey with a wrong password: %v", err)
	}
}
