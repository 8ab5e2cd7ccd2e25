package sign

import (
	"context"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
)

// cosignVersions are the releases whose CLI must verify paved's signatures.
var cosignVersions = []string{"v3.1.3", "v2.6.2"}

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
