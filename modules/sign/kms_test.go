package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature/kms"

	"github.com/pavedhq/paved/internal/testtools"
)

// installTestKMS builds the test KMS plugin (testdata/sigstore-kms-testkms)
// into a directory put first on PATH, and returns a fresh key for it.
func installTestKMS(t *testing.T) (keyRef string) {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(bin, "sigstore-kms-testkms"), "./testdata/sigstore-kms-testkms")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test KMS plugin: %v\n%s", err, out)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kms-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return "testkms://" + path
}

// TestKMSPlugin signs through a sigstore KMS plugin program (the protocol
// cosign uses for sigstore-kms-<name> plugins) and verifies the signatures
// with the public key the plugin returns, with the key URI itself, and with
// the cosign CLI.
func TestKMSPlugin(t *testing.T) {
	ctx := context.Background()
	ref := installTestKMS(t)
	s, err := LoadKey(ctx, ref, nil)
	if err != nil {
		t.Fatalf("LoadKey %s: %v", ref, err)
	}
	pub, err := s.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	pemPub, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	pubFile := filepath.Join(t.TempDir(), "kms.pub")
	if err := os.WriteFile(pubFile, pemPub, 0o644); err != nil {
		t.Fatal(err)
	}

	host := newRegistry(t)
	d, idx := pushIndex(t, host, "team/kms")
	sigs, err := Index(ctx, d, s)
	if err != nil {
		t.Fatalf("Index with %s: %v", ref, err)
	}
	subjects := append(manifests(t, d, idx), d)
	if len(sigs) != len(subjects) {
		t.Fatalf("Index returned %d signatures, want %d", len(sigs), len(subjects))
	}
	for _, key := range []string{pubFile, ref} {
		for _, sub := range subjects {
			if _, err := Verify(ctx, sub, Policy{Key: key}); err != nil {
				t.Errorf("Verify %s with %s: %v", sub, key, err)
			}
		}
	}
	other := newKeyPair(t, "other")
	if _, err := Verify(ctx, d, Policy{Key: other.Pub}); err == nil {
		t.Error("Verify with another key succeeded")
	}

	t.Run("cosign CLI", func(t *testing.T) {
		cosign := testtools.Cosign(t, testtools.CosignV3)
		env := testtools.CosignEnv(t)
		for _, sub := range subjects {
			out, err := testtools.Run(t, env, cosign, "verify", "--key", pubFile, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry", sub.String())
			if err != nil {
				t.Errorf("cosign verify %s: %v\n%s", sub, err, out)
			}
		}
	})
}

// TestKMSNotInstalled checks the error for a KMS URI whose provider is
// neither built in nor installed as a plugin: it names the plugin program
// to install and, for sigstore's own providers, the build tag.
func TestKMSNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ctx := context.Background()
	cases := map[string]string{"testkms": ""}
	for scheme, tag := range kmsBuildTags {
		if !slices.Contains(kms.SupportedProviders(), scheme+"://") {
			cases[scheme] = tag
		}
	}
	for scheme, tag := range cases {
		ref := scheme + "://some/key"
		_, err := LoadKey(ctx, ref, nil)
		if err == nil {
			t.Fatalf("LoadKey %s succeeded with no provider", ref)
		}
		_, verr := loadPublicKey(ctx, ref)
		if verr == nil {
			t.Fatalf("loading public key %s succeeded with no provider", ref)
		}
		for _, e := range []error{err, verr} {
			if !strings.Contains(e.Error(), "sigstore-kms-"+scheme+" on PATH") {
				t.Errorf("%s: the error does not name the plugin to install: %v", ref, e)
			}
			if tag != "" && !strings.Contains(e.Error(), "-tags "+tag) {
				t.Errorf("%s: the error does not name the build tag %s: %v", ref, tag, e)
			}
		}
	}
}
