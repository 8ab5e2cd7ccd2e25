package sign

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// Signer signs with one identity: a key pair, a KMS key, or a keyless
// (Fulcio) certificate.
type Signer struct {
	signature.SignerVerifier
	// Cert and Chain are the PEM certificate and its issuing chain of a
	// keyless signer; empty for keys.
	Cert, Chain []byte

	// rekor records each signature of a keyless signer; nil for keys, which
	// sign offline.
	rekor *rekorLog
}

// LoadKey loads a signing key: a cosign private key file (encrypted PEM,
// decrypted with password) or a KMS URI (scheme://key, see loadKMS). The password is never logged nor
// part of an error.
func LoadKey(ctx context.Context, ref string, password []byte) (*Signer, error) {
	if ref == "" {
		return nil, errors.New("load signing key: no key given")
	}
	if scheme, ok := kmsScheme(ref); ok {
		sv, err := loadKMS(ctx, scheme, ref)
		if err != nil {
			return nil, fmt.Errorf("load signing key from KMS provider %s: %w", scheme, err)
		}
		// Providers connect lazily: ask for the public key now so a missing
		// key or credentials fail here rather than halfway through signing.
		if _, err := sv.PublicKey(options.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("load signing key from KMS provider %s: %w", scheme, err)
		}
		return &Signer{SignerVerifier: sv}, nil
	}
	pem, err := os.ReadFile(ref)
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	sv, err := cosign.LoadPrivateKey(pem, password, nil)
	if err != nil {
		return nil, fmt.Errorf("load signing key %s: %w", ref, err)
	}
	return &Signer{SignerVerifier: sv}, nil
}
