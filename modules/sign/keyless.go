package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Public-good Sigstore instances, used when KeylessOptions leaves a URL empty.
const (
	DefaultFulcioURL = "https://fulcio.sigstore.dev"
	DefaultRekorURL  = "https://rekor.sigstore.dev"
)

// KeylessOptions names the Sigstore services, the trust material their
// answers must verify against, and the OIDC identity token of a keyless
// signer.
type KeylessOptions struct {
	FulcioURL, RekorURL string
	// TrustedRoot is a Sigstore trusted_root.json holding the Fulcio CAs, CT
	// logs and Rekor keys of the instance at FulcioURL and RekorURL; empty
	// means the public-good instance's, fetched with TUF.
	TrustedRoot string
	// IDToken is the raw OIDC token (a JWT) Fulcio certifies; it is a secret
	// and never appears in errors.
	IDToken string
}

// Reasons a keyless signer refuses what Fulcio or Rekor returned; errors
// wrap them, so callers can tell them apart with errors.Is.
var (
	ErrCertificateKey   = errors.New("certificate is for another public key than the one paved sent")
	ErrCertificateChain = errors.New("certificate does not chain up to a Fulcio CA of the trusted root")
	ErrCertificateSCT   = errors.New("certificate's SCT does not verify against a CT log of the trusted root")
	ErrEntrySET         = errors.New("signed entry timestamp does not verify against a Rekor key of the trusted root")
	ErrEntryInclusion   = errors.New("inclusion proof does not verify up to a checkpoint signed by a Rekor key of the trusted root")
	ErrEntryContent     = errors.New("entry is not the one paved proposed")
)

// Keyless creates an ephemeral key and has Fulcio certify it for the
// identity in opts.IDToken. Every signature the Signer makes is then
// recorded in Rekor. Fulcio's certificate and each Rekor entry are verified
// against the trusted root before paved uses them. Fulcio certificates are
// short-lived (minutes): create the Signer just before signing.
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
	tm, err := trustedMaterial(opts.TrustedRoot)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	der, err := fulcioCertificate(ctx, opts.FulcioURL, opts.IDToken, fulcioKey{sv: sv, pub: priv.Public()})
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	chain, err := verifyCertificate(der, priv.Public(), tm, time.Now())
	if err != nil {
		return nil, fmt.Errorf("keyless signing: fulcio %s: %w", opts.FulcioURL, err)
	}
	rekor, err := newRekorLog(opts.RekorURL, tm, priv.Public())
	if err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	s := &Signer{SignerVerifier: sv, rekor: rekor}
	// The chain annotation is the verified chain from the trusted root, not
	// whatever Fulcio listed.
	if s.Cert, err = cryptoutils.MarshalCertificateToPEM(chain[0]); err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	if s.Chain, err = cryptoutils.MarshalCertificatesToPEM(chain[1:]); err != nil {
		return nil, fmt.Errorf("keyless signing: %w", err)
	}
	return s, nil
}

// fulcioCertificate asks Fulcio at base, with sigstore-go's client, to
// certify key for the token's identity, and returns the leaf (DER).
func fulcioCertificate(ctx context.Context, base, token string, key sgsign.Keypair) ([]byte, error) {
	// sigstore-go makes its requests without a context: the transport gives
	// them one, so cancelling the run or the timeout stops them.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	f := sgsign.NewFulcio(&sgsign.FulcioOptions{
		BaseURL:   strings.TrimSuffix(base, "/"),
		Timeout:   -1,
		Retries:   1,
		Transport: contextTransport{ctx: ctx, base: http.DefaultTransport},
	})
	der, err := f.GetCertificate(ctx, key, &sgsign.CertificateProviderOptions{IDToken: token})
	if err != nil {
		// The client quotes the server's answer, which may echo the token.
		return nil, fmt.Errorf("fulcio %s: %s", base, snippet([]byte(err.Error()), token))
	}
	return der, nil
}

// verifyCertificate checks Fulcio's certificate before paved signs with it:
// it certifies pub, chains up to a Fulcio CA of tm at now, and embeds an SCT
// from a CT log of tm. It returns the verified chain, leaf first.
func verifyCertificate(der []byte, pub crypto.PublicKey, tm root.TrustedMaterial, now time.Time) ([]*x509.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate does not parse: %w", err)
	}
	if err := cryptoutils.EqualKeys(pub, leaf.PublicKey); err != nil {
		return nil, ErrCertificateKey
	}
	// A certificate starts when Fulcio issues it: a clock a little behind
	// Fulcio's must not refuse a fresh one.
	if now.Before(leaf.NotBefore) && leaf.NotBefore.Sub(now) < time.Minute {
		now = leaf.NotBefore
	}
	chains, err := verify.VerifyLeafCertificate(now, leaf, tm)
	if err != nil || len(chains) == 0 || len(chains[0]) < 2 {
		return nil, fmt.Errorf("%w: issuer %q", ErrCertificateChain, leaf.Issuer.String())
	}
	if err := verify.VerifySignedCertificateTimestamp(chains, 1, tm); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCertificateSCT, err)
	}
	return chains[0], nil
}

// fulcioKey presents the ephemeral key to sigstore-go's Fulcio client,
// which signs the proof of possession with it.
type fulcioKey struct {
	sv  signature.SignerVerifier
	pub crypto.PublicKey
}

var _ sgsign.Keypair = fulcioKey{}

func (fulcioKey) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (fulcioKey) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (fulcioKey) GetHint() []byte                  { return nil }
func (fulcioKey) GetKeyAlgorithm() string          { return "ECDSA" }
func (k fulcioKey) GetPublicKey() crypto.PublicKey { return k.pub }

func (k fulcioKey) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(k.pub)
	return string(b), err
}

func (k fulcioKey) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sig, err := k.sv.SignMessage(bytes.NewReader(data))
	sum := sha256.Sum256(data)
	return sig, sum[:], err
}

// contextTransport sends each request with ctx.
type contextTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
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
