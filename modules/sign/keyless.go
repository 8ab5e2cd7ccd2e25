package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/oauthflow"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Public-good Sigstore instances, used when KeylessOptions leaves a URL empty.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// KeylessOptions names the Sigstore services and the OIDC identity token of
// a keyless signer.
type KeylessOptions struct {
	FulcioURL, RekorURL string
	// IDToken is the raw OIDC token (a JWT) Fulcio certifies; it is a secret
	// and never appears in errors.
	IDToken string
}

// Keyless creates an ephemeral key and has Fulcio certify it for the
// identity in opts.IDToken. Every signature the Signer makes is then
// recorded in Rekor. Fulcio certificates are short-lived (minutes): create
// the Signer just before signing.
func Keyless(ctx context.Context, opts KeylessOptions) (*Signer, error) {
	if opts.IDToken == "" {
		return nil, errors.New("keyless signing: no OIDC identity token")
	}
	if opts.FulcioURL == "" {
		opts.FulcioURL = DefaultFulcioURL
	}
	if opts.RekorURL == "" {
		opts.RekorURL = DefaultRekorURL
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	chain, err := fulcioCertificate(ctx, opts.FulcioURL, opts.IDToken, sv)
	if err != nil {
		return nil, err
	}
	rekor, err := newRekorLog(opts.RekorURL)
	if err != nil {
		return nil, err
	}
	s := &Signer{SignerVerifier: sv, rekor: rekor}
	s.Cert, s.Chain = splitChain(chain)
	return s, nil
}

// splitChain returns the first PEM block of chain (the leaf) and the rest.
func splitChain(chain []byte) (cert, rest []byte) {
	block, rest := pem.Decode(chain)
	if block == nil {
		return nil, nil
	}
	return pem.EncodeToMemory(block), bytes.TrimLeft(rest, "\n")
}

// Fulcio's v2 REST API (POST /api/v2/signingCert), the protocol Sigstore
// clients speak; only the fields paved sends and reads.
type fulcioRequest struct {
	PublicKeyRequest struct {
		PublicKey struct {
			Algorithm string `json:"algorithm"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession string `json:"proofOfPossession"`
	} `json:"publicKeyRequest"`
}

type fulcioChain struct {
	Chain struct {
		Certificates []string `json:"certificates"`
	} `json:"chain"`
}

type fulcioResponse struct {
	SignedCertificateEmbeddedSct *fulcioChain `json:"signedCertificateEmbeddedSct"`
	SignedCertificateDetachedSct *fulcioChain `json:"signedCertificateDetachedSct"`
}

// fulcioCertificate asks Fulcio at base to certify sv's public key for the
// token's identity and returns the PEM chain, leaf first.
func fulcioCertificate(ctx context.Context, base, token string, sv signature.SignerVerifier) ([]byte, error) {
	subject, err := tokenSubject(token)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	// Proof of possession: Fulcio checks a signature over the token's subject.
	proof, err := sv.SignMessage(strings.NewReader(subject))
	if err != nil {
		return nil, fmt.Errorf("keyless signing: proof of possession: %w", err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	var req fulcioRequest
	req.PublicKeyRequest.PublicKey.Algorithm = "ECDSA"
	req.PublicKeyRequest.PublicKey.Content = string(pubPEM)
	req.PublicKeyRequest.ProofOfPossession = base64.StdEncoding.EncodeToString(proof)
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	url := strings.TrimSuffix(base, "/") + "/api/v2/signingCert"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: %w", base, err)
	}
	hreq.Header.Set("Authorization", "Bearer "+token)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: %w", base, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("fulcio %s: %s: %s", base, resp.Status, snippet(rb, token))
	}
	chain, err := parseFulcioResponse(rb)
	if err != nil {
		return nil, fmt.Errorf("fulcio %s: %w", base, err)
	}
	return chain, nil
}

// parseFulcioResponse returns the PEM chain in a signingCert response after
// checking that its first certificate parses.
func parseFulcioResponse(b []byte) ([]byte, error) {
	var r fulcioResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding response: %w", err)
	}
	c := r.SignedCertificateEmbeddedSct
	if c == nil {
		c = r.SignedCertificateDetachedSct
	}
	if c == nil || len(c.Chain.Certificates) == 0 {
		return nil, errors.New("response holds no certificate")
	}
	var chain []byte
	for _, p := range c.Chain.Certificates {
		chain = append(chain, strings.TrimSpace(p)...)
		chain = append(chain, '\n')
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(chain)
	if err != nil {
		return nil, fmt.Errorf("certificate chain: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("response holds no certificate")
	}
	return chain, nil
}

// tokenSubject reads the identity Fulcio certifies from a JWT without
// verifying it (Fulcio does): the email when verified, else the subject.
func tokenSubject(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New("OIDC token is not a JWT")
	}
	claims, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New("OIDC token: claims are not base64url")
	}
	sub, err := oauthflow.SubjectFromUnverifiedToken(claims)
	if err != nil {
		return "", fmt.Errorf("OIDC token: %w", err)
	}
	return sub, nil
}

// snippet shortens a server's error body for an error message, removing
// the token should a server echo it.
func snippet(b []byte, secret string) string {
	s := strings.TrimSpace(string(b))
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
