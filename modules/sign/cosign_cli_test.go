package sign

import (
	"context"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
)

// cosignVersions are the releases whose CLI must verify paved's signatures.
var cosignVersions = []string{testtools.CosignV3, testtools.CosignV2}

// TestCosignCLIVerifies checks paved's signatures with the cosign CLI, an
// implementation independent of this package's verification code path.
func TestCosignCLIVerifies(t *testing.T) {
	for _, v := range cosignVersions {
		t.Run(v, func(t *testing.T) {
			cosign := testtools.Cosign(t, v)
			ctx := context.Background()
			host := newRegistry(t)
			ref, idx := pushIndex(t, host, "team/svc")
			kp := newKeyPair(t, "pw")
			if _, err := Index(ctx, ref, loadKey(t, kp)); err != nil {
				t.Fatal(err)
			}
			other := newKeyPair(t, "pw2")
			env := testtools.CosignEnv(t)
			for _, d := range append(manifests(t, ref, idx), ref) {
				out, err := testtools.Run(t, env, cosign, "verify", "--key", kp.Pub, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry", d.String())
				if err != nil {
					t.Fatalf("cosign %s verify %s: %v\n%s", v, d, err, out)
				}
				if !strings.Contains(out, d.DigestStr()) {
					t.Errorf("cosign %s verify output does not name %s:\n%s", v, d.DigestStr(), out)
				}
				out, err = testtools.Run(t, env, cosign, "verify", "--key", other.Pub, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry", d.String())
				if err == nil {
					t.Errorf("cosign %s verify with another key succeeded:\n%s", v, out)
				}
			}
		})
	}
}

// TestVerifiesCosignBundles signs with the cosign v3 CLI's default, the
// Sigstore bundle stored as an OCI referrer, and checks that Verify accepts
// it with the right key and refuses it with another: promotion must accept
// images signed by plain cosign, not only by paved.
func TestVerifiesCosignBundles(t *testing.T) {
	cosign := testtools.Cosign(t, testtools.CosignV3)
	ctx := context.Background()
	host := newRegistry(t)
	ref, _ := pushIndex(t, host, "team/svc")
	kp := newKeyPair(t, "pw")
	env := append(testtools.CosignEnv(t), "COSIGN_PASSWORD=pw")
	out, err := testtools.Run(t, env, cosign, "sign", "--key", kp.Priv, "--tlog-upload=false", "--use-signing-config=false",
		"--allow-insecure-registry", "--allow-http-registry", "-y", ref.String())
	if err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
	sigs, err := Verify(ctx, ref, Policy{Key: kp.Pub})
	if err != nil {
		t.Fatalf("Verify of a cosign v3 bundle: %v", err)
	}
	if len(sigs) == 0 || !strings.Contains(sigs[0].Ref, "bundle") {
		t.Errorf("signatures %+v, want a bundle", sigs)
	}
	if _, err := Verify(ctx, ref, Policy{Key: newKeyPair(t, "x").Pub}); err == nil {
		t.Fatal("Verify with another key accepted the bundle")
	}
	unsigned, _ := pushIndex(t, host, "team/other")
	if _, err := Verify(ctx, unsigned, Policy{Key: kp.Pub}); err == nil {
		t.Fatal("Verify accepted an unsigned image")
	}
}
