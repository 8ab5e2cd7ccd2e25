package goservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"sync"

	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/pavedhq/paved/modules/sign"
	"github.com/pavedhq/paved/pipelines"
)

// signerOnce loads the signer the first time a step needs it, once for the
// run: a keyless run gets one certificate for its signatures and
// attestations.
type signerOnce struct {
	cfg  pipelines.Signing
	once sync.Once
	s    *sign.Signer
	err  error
}

func (l *signerOnce) get(ctx context.Context) (*sign.Signer, error) {
	l.once.Do(func() {
		if l.cfg.Key != "" {
			l.s, l.err = sign.LoadKey(ctx, l.cfg.Key, l.cfg.Password)
			return
		}
		l.s, l.err = sign.Keyless(ctx, sign.KeylessOptions{FulcioURL: l.cfg.FulcioURL, RekorURL: l.cfg.RekorURL, IDToken: l.cfg.IDToken})
	})
	return l.s, l.err
}

// identity names the signing key for cache keys without loading it: a key
// file by its content, a KMS key by its URI. Keyless signing has none (it
// is never cached: each run gets a new certificate).
func (l *signerOnce) identity() (string, bool) {
	if l.cfg.Key == "" {
		return "", false
	}
	if b, err := os.ReadFile(l.cfg.Key); err == nil {
		sum := sha256.Sum256(b)
		return "file:" + hex.EncodeToString(sum[:]), true
	}
	return "uri:" + l.cfg.Key, true
}

// publicKeyPEM is the signer's public key, kept with cached results so a
// re-run can check the registry still holds what this key signed.
func publicKeyPEM(s *sign.Signer) ([]byte, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, err
	}
	return cryptoutils.MarshalPublicKeyToPEM(pub)
}
