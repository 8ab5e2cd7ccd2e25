package sign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/pavedhq/paved/internal/testtools"
)

func TestKeyless(t *testing.T) {
	ctx := context.Background()
	f := testtools.NewSigstore(t)
	host := newRegistry(t)
	ref, idx := pushIndex(t, host, "team/svc")
	token := f.Token("dev@example.test")

	s, err := Keyless(ctx, KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s.Cert), "BEGIN CERTIFICATE") || strings.Count(string(s.Chain), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("Cert/Chain not split: cert %d bytes, chain %q", len(s.Cert), s.Chain)
	}
	sigs, err := Index(ctx, ref, s)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + len(manifests(t, ref, idx)); len(sigs) != want || f.Entries() != want {
		t.Fatalf("%d signatures, %d Rekor entries; want %d each", len(sigs), f.Entries(), want)
	}

	ok := Policy{Issuer: f.Issuer, Identity: "dev@example.test", TrustedRoot: f.TrustedRoot}
	if _, err := Verify(ctx, ref, ok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for _, d := range manifests(t, ref, idx) {
		if _, err := Verify(ctx, d, ok); err != nil {
			t.Errorf("Verify %s: %v", d, err)
		}
	}
	re := Policy{Issuer: f.Issuer, IdentityRegexp: `^.*@example\.test$`, TrustedRoot: f.TrustedRoot}
	if _, err := Verify(ctx, ref, re); err != nil {
		t.Errorf("Verify by regexp: %v", err)
	}

	bad := map[string]Policy{
		"identity": {Issuer: f.Issuer, Identity: "other@example.test", TrustedRoot: f.TrustedRoot},
		"issuer":   {Issuer: "https://other.example.test", Identity: "dev@example.test", TrustedRoot: f.TrustedRoot},
		"rekor":    {Issuer: f.Issuer, Identity: "dev@example.test", TrustedRoot: testtools.NewSigstore(t).TrustedRoot},
		"ca":       {Issuer: f.Issuer, Identity: "dev@example.test", TrustedRoot: f.WriteTrustedRoot(t, testtools.NewSigstore(t), true)},
		"ct log":   {Issuer: f.Issuer, Identity: "dev@example.test", TrustedRoot: f.WriteTrustedRoot(t, f, false)},
	}
	for name, p := range bad {
		_, err := Verify(ctx, ref, p)
		if err == nil {
			t.Errorf("Verify with another %s succeeded", name)
		}
		t.Logf("another %s: %v", name, err)
	}
}

func TestKeylessErrorsHideToken(t *testing.T) {
	f := testtools.NewSigstore(t)
	token := f.Token("dev@example.test")
	// A Fulcio that echoes the request's token in its error.
	echo := newEchoServer(t)
	for _, opts := range []KeylessOptions{
		{FulcioURL: echo, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: token},
		{FulcioURL: "http://127.0.0.1:1", RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: token},
		{FulcioURL: f.FulcioURL, TrustedRoot: f.TrustedRoot, IDToken: "not.a-jwt"},
	} {
		_, err := Keyless(context.Background(), opts)
		if err == nil {
			t.Fatalf("Keyless(%s) succeeded", opts.FulcioURL)
		}
		if strings.Contains(err.Error(), opts.IDToken) {
			t.Errorf("error reveals the token: %v", err)
		}
	}
}

// TestKeylessRefusesUntrusted has the stand-in Fulcio and Rekor answer with
// well-formed, signed, but untrustworthy responses: each must stop signing
// with the reason, and leave no signature in the registry.
func TestKeylessRefusesUntrusted(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	for _, tc := range []struct {
		name  string
		fault testtools.Fault
		want  error
	}{
		{"fulcio certifies another key", testtools.FulcioOtherKey, ErrCertificateKey},
		{"fulcio chain from another CA", testtools.FulcioOtherCA, ErrCertificateChain},
		{"fulcio SCT does not verify", testtools.FulcioBadSCT, ErrCertificateSCT},
		{"rekor SET does not verify", testtools.RekorBadSET, ErrEntrySET},
		{"rekor inclusion proof does not verify", testtools.RekorBadInclusionProof, ErrEntryInclusion},
		{"rekor answers with another entry", testtools.RekorReplay, ErrEntryContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testtools.NewSigstore(t)
			opts := KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: f.Token("dev@example.test")}
			if tc.fault == testtools.RekorReplay {
				// An earlier, genuine entry for Rekor to answer with.
				earlier, _ := pushIndex(t, host, "team/earlier")
				if _, err := Index(ctx, earlier, keyless(t, opts)); err != nil {
					t.Fatal(err)
				}
			}
			f.Inject(tc.fault)
			ref, _ := pushIndex(t, host, "team/svc")
			s, err := Keyless(ctx, opts)
			if err == nil {
				_, err = Index(ctx, ref, s)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("signing with %s: error %v, want %q", tc.name, err, tc.want)
			}
			t.Log(err)
			if s != nil {
				if _, err := s.Attestation(ctx, []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), nil); !errors.Is(err, tc.want) {
					t.Errorf("attesting with %s: error %v, want %q", tc.name, err, tc.want)
				}
			}
			tag, err := ociremote.SignatureTag(ref)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := remote.Head(tag); err == nil {
				t.Errorf("a signature was stored at %s", tag)
			}
		})
	}
}

func keyless(t *testing.T, opts KeylessOptions) *Signer {
	t.Helper()
	s, err := Keyless(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifyCertificateTime: a certificate verifies while it is valid, and
// a few seconds before, for a clock a little behind Fulcio's; not long
// before, nor after it expired.
func TestVerifyCertificateTime(t *testing.T) {
	f := testtools.NewSigstore(t)
	tm, err := root.NewTrustedRootFromPath(f.TrustedRoot)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := f.Certificate(t, key.Public(), "dev@example.test")
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"valid", leaf.NotBefore.Add(time.Second), true},
		{"clock 30s behind", leaf.NotBefore.Add(-30 * time.Second), true},
		{"clock 2m behind", leaf.NotBefore.Add(-2 * time.Minute), false},
		{"expired", leaf.NotAfter.Add(time.Second), false},
	} {
		_, err := verifyCertificate(der, key.Public(), tm, tc.at)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrCertificateChain) {
			t.Errorf("%s: error %v, want %q", tc.name, err, ErrCertificateChain)
		}
	}
}
