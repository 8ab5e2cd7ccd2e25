package sign

import (
	"github.com/pavedhq/paved/internal/testtools"

	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature/kms"
)

// TestNoSecretsInRegistry signs with a key and keyless, then reads back
// every manifest and blob in the registry: neither the private key (file
// bytes or its base64 body), its password nor the OIDC token may appear.
func TestNoSecretsInRegistry(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	ref, _ := pushIndex(t, host, "team/svc")
	kp := newKeyPair(t, "s3cret-Pa55word")
	if _, err := Index(ctx, ref, loadKey(t, kp)); err != nil {
		t.Fatal(err)
	}
	f := testtools.NewSigstore(t)
	token := f.Token("dev@example.test")
	s, err := Keyless(ctx, KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Index(ctx, ref, s); err != nil {
		t.Fatal(err)
	}

	secrets := secretsOf(kp)
	secrets = append(secrets, token)
	stored := testtools.RegistryContents(t, host)
	t.Logf("read back %d manifests and blobs", len(stored))
	if len(stored) < 8 {
		t.Fatalf("read back only %d objects", len(stored))
	}
	for what, b := range stored {
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("%s contains a secret (%.12q...)", what, sec)
			}
		}
	}
	// Nor may Fulcio or Rekor have received the key or password.
	for _, req := range f.Requests() {
		for _, sec := range secretsOf(kp) {
			if strings.Contains(req, sec) {
				t.Errorf("a Sigstore request contains a secret (%.12q...)", sec)
			}
		}
	}
}

func TestLoadKeyErrorsHideSecrets(t *testing.T) {
	ctx := context.Background()
	kp := newKeyPair(t, "s3cret-Pa55word")
	_, err := LoadKey(ctx, kp.Priv, []byte("wrong-Pa55word"))
	if err == nil {
		t.Fatal("LoadKey with a wrong password succeeded")
	}
	bad := strings.Replace(string(kp.PrivPEM), "A", "B", 3)
	path := t.TempDir() + "/bad.key"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err2 := LoadKey(ctx, path, kp.Password)
	if err2 == nil {
		t.Fatal("LoadKey of a corrupt key succeeded")
	}
	for _, e := range []error{err, err2} {
		for _, sec := range append(secretsOf(kp), "wrong-Pa55word") {
			if strings.Contains(e.Error(), sec) {
				t.Errorf("error reveals a secret: %v", e)
			}
		}
	}
}

// TestLoadKeyKMS checks that KMS URIs reach their provider when it is built
// in (-tags paved_kms_*). No KMS is reachable here, so each must fail,
// quickly, naming the provider; without the provider, the error says what
// to install (TestKMSNotInstalled).
func TestLoadKeyKMS(t *testing.T) {
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "test-token")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	for _, tc := range []struct{ ref, provider string }{
		{"hashivault://paved-test", "hashivault"},
		{"awskms:///alias/paved-test", "awskms"},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := LoadKey(ctx, tc.ref, nil)
			if err == nil {
				t.Fatal("LoadKey succeeded without a KMS")
			}
			t.Logf("%s: %v", tc.ref, err)
			if !strings.Contains(err.Error(), "KMS provider "+tc.provider) {
				t.Errorf("error does not name the provider: %v", err)
			}
			if builtIn := slices.Contains(kms.SupportedProviders(), tc.provider+"://"); builtIn == strings.Contains(err.Error(), "no KMS provider for") {
				t.Errorf("provider built in: %v, but the error is: %v", builtIn, err)
			}
			if strings.Contains(err.Error(), "test-token") || strings.Contains(err.Error(), "test-secret") {
				t.Errorf("error reveals a credential: %v", err)
			}
		})
	}
	// A path that merely looks like a URI is read as a file.
	if _, err := LoadKey(context.Background(), "file:///nonexistent", nil); err == nil || strings.Contains(err.Error(), "KMS") {
		t.Errorf("non-KMS URI: %v", err)
	}
}

// secretsOf lists the forms a key pair's secrets could leak in.
func secretsOf(kp keyPair) []string {
	out := []string{string(kp.Password), string(kp.PrivPEM)}
	if block, _ := pem.Decode(kp.PrivPEM); block != nil {
		b64 := base64.StdEncoding.EncodeToString(block.Bytes)
		out = append(out, b64[:40], b64[len(b64)/2:len(b64)/2+40], string(block.Bytes[len(block.Bytes)-32:]))
	}
	return out
}
