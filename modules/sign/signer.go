package sign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/options"

	// KMS providers register their URI schemes with the kms package.
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
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

// kmsSchemes are the URI prefixes routed to a KMS provider rather than read
// as a key file.
var kmsSchemes = []string{"awskms://", "gcpkms://", "azurekms://", "hashivault://"}

// LoadKey loads a signing key: a cosign private key file (encrypted PEM,
// decrypted with password) or a KMS URI. The password is never logged nor
// part of an error.
func LoadKey(ctx context.Context, ref string, password []byte) (*Signer, error) {
	if ref == "" {
		return nil, errors.New("load signing key: no key given")
	}
	if scheme, ok := kmsScheme(ref); ok {
		sv, err := kms.Get(ctx, ref, crypto.SHA256)
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

// kmsScheme reports the provider scheme of a KMS URI, without "://".
func kmsScheme(ref string) (string, bool) {
	for _, s := range kmsSchemes {
		if strings.HasPrefix(ref, s) {
			return strings.TrimSuffix(s, "://"), true
		}
	}
	return "", false
}
