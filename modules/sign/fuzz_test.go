package sign

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseFulcioResponse: any response body either yields a PEM chain
// whose certificates parse or an error; it never panics.
func FuzzParseFulcioResponse(f *testing.F) {
	f.Add([]byte(`{"signedCertificateEmbeddedSct":{"chain":{"certificates":[]}}}`))
	f.Add([]byte(`{"signedCertificateDetachedSct":{"chain":{"certificates":["-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----"]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		chain, err := parseFulcioResponse(b)
		if err == nil && !strings.Contains(string(chain), "BEGIN CERTIFICATE") {
			t.Fatalf("accepted a chain without a certificate: %q", chain)
		}
		if err == nil {
			cert, _ := splitChain(chain)
			if len(cert) == 0 {
				t.Fatalf("accepted chain has no leaf: %q", chain)
			}
		}
	})
}

// FuzzTokenSubject: claims are read from any token without panicking, and
// errors never quote the token.
func FuzzTokenSubject(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("h." + enc([]byte(`{"sub":"a","email":"dev@example.test","email_verified":true}`)) + ".s")
	f.Add("h." + enc([]byte(`{"sub":"repo:org/x:ref:refs/heads/main"}`)) + ".s")
	f.Add("h." + enc([]byte(`{"email":"x@y","email_verified":"false"}`)) + ".s")
	f.Add("only.two")
	f.Fuzz(func(t *testing.T, token string) {
		sub, err := tokenSubject(token)
		if err == nil && sub == "" {
			t.Fatal("empty subject accepted")
		}
		if err != nil && len(token) > 8 && strings.Contains(err.Error(), token) {
			t.Fatalf("error quotes the token: %v", err)
		}
	})
}
