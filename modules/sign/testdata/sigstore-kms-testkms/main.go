// Command sigstore-kms-testkms is a sigstore KMS plugin for tests: it keeps
// its key in a local PEM file (the key reference is the file's path) and
// answers with sigstore's plugin handler, as a real KMS plugin would. It
// lets the tests sign and verify through the plugin protocol with no cloud
// KMS; it is not a way to store keys.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/common"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin/handler"
)

const algorithm = "ecdsa-p256-sha256"

// fileKMS serves the key in one PEM file.
type fileKMS struct {
	path string
	hash crypto.Hash
	*signature.ECDSASignerVerifier
}

func (k *fileKMS) load() error {
	b, err := os.ReadFile(k.path)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return errors.New("no PEM block in " + k.path)
	}
	priv, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	k.ECDSASignerVerifier, err = signature.LoadECDSASignerVerifier(priv, k.hash)
	return err
}

func (k *fileKMS) CreateKey(_ context.Context, alg string) (crypto.PublicKey, error) {
	if alg != algorithm {
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(k.path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := k.load(); err != nil {
		return nil, err
	}
	return priv.Public(), nil
}

func (k *fileKMS) CryptoSigner(context.Context, func(error)) (crypto.Signer, crypto.SignerOpts, error) {
	if k.ECDSASignerVerifier == nil {
		return nil, nil, errors.New("no key in " + k.path)
	}
	return k.ECDSASignerVerifier, k.hash, nil
}

func (k *fileKMS) SupportedAlgorithms() []string { return []string{algorithm} }
func (k *fileKMS) DefaultAlgorithm() string      { return algorithm }

func main() {
	args, err := handler.GetPluginArgs(os.Args)
	if err != nil {
		_ = handler.WriteErrorResponse(os.Stdout, err)
		return
	}
	if args.InitOptions.ProtocolVersion != common.ProtocolVersion {
		_ = handler.WriteErrorResponse(os.Stdout, fmt.Errorf("protocol version %s, want %s", args.InitOptions.ProtocolVersion, common.ProtocolVersion))
		return
	}
	k := &fileKMS{path: args.InitOptions.KeyResourceID, hash: args.InitOptions.HashFunc}
	if args.MethodName != common.CreateKeyMethodName {
		if err := k.load(); err != nil {
			_ = handler.WriteErrorResponse(os.Stdout, err)
			return
		}
	}
	if _, err := handler.Dispatch(os.Stdout, os.Stdin, args, k); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
