package sign

import (
	"github.com/pavedhq/paved/internal/testtools"

	"context"
	"strings"
	"testing"
)

func TestKeyless(t *testing.T) {
	ctx := context.Background()
	f := testtools.NewSigstore(t)
	host := newRegistry(t)
	ref, idx := pushIndex(t, host, "team/svc")
	token := f.Token("dev@example.test")

	s, err := Keyless(ctx, KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, IDToken: token})
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
		{FulcioURL: echo, RekorURL: f.RekorURL, IDToken: token},
		{FulcioURL: "http://127.0.0.1:1", RekorURL: f.RekorURL, IDToken: token},
		{FulcioURL: f.FulcioURL, IDToken: "not.a-jwt"},
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
