package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/pavedhq/paved/internal/testtools"
)

// FuzzVerifyCertificate: any bytes Fulcio returns as the certificate either
// yield a verified chain whose leaf holds the key paved sent, or an error;
// never a panic. The seed issued by the stand-in Fulcio passes every check,
// so mutations of it reach the chain and SCT checks.
func FuzzVerifyCertificate(f *testing.F) {
	sig := testtools.NewSigstore(f)
	tm, err := root.NewTrustedRootFromPath(sig.TrustedRoot)
	if err != nil {
		f.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sig.Certificate(f, key.Public(), "dev@example.test"))
	f.Fuzz(func(t *testing.T, der []byte) {
		chain, err := verifyCertificate(der, key.Public(), tm, time.Now())
		if err != nil {
			return
		}
		if len(chain) < 2 {
			t.Fatalf("accepted a chain of %d certificates", len(chain))
		}
		if cryptoutils.EqualKeys(chain[0].PublicKey, key.Public()) != nil {
			t.Fatal("accepted a certificate for another key")
		}
	})
}
