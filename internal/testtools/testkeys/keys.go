// Package testkeys makes cosign key pairs for tests. It is apart from
// testtools because it links cosign, which the light end-to-end tests must not.
package testkeys

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/cosign/v3/pkg/cosign"
)

// Pair is a cosign key pair written to files.
type Pair struct {
	Priv, Pub string // file paths
	Password  []byte
	PrivPEM   []byte
}

// New generates a cosign key pair encrypted with password.
func New(t testing.TB, password string) Pair {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kp := Pair{Priv: filepath.Join(dir, "cosign.key"), Pub: filepath.Join(dir, "cosign.pub"), Password: []byte(password), PrivPEM: kb.PrivateBytes}
	if err := os.WriteFile(kp.Priv, kb.PrivateBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp.Pub, kb.PublicBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	return kp
}
