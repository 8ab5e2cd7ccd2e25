package work

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/pavedhq/paved/modules/sign"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// signer loads the key or, keyless, gets a certificate for the token.
func signer(ctx context.Context, cfg goservice.SignConfig) (*sign.Signer, error) {
	password, token := secrets()
	if cfg.Key != "" {
		return sign.LoadKey(ctx, cfg.Key, password)
	}
	return sign.Keyless(ctx, sign.KeylessOptions{FulcioURL: cfg.FulcioURL, RekorURL: cfg.RekorURL, TrustedRoot: cfg.TrustedRoot, IDToken: token})
}

// writePublicKey keeps the signer's public key with the step's files, so
// whoever reads the report can verify with it.
func writePublicKey(s *sign.Signer, dir string) error {
	pub, err := s.PublicKey()
	if err != nil {
		return err
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, goservice.PublicKeyFile), pem, 0o644)
}

func signStep(ctx context.Context, raw json.RawMessage, deps map[string]goservice.WorkDependency, out string) (*runner.Result, error) {
	cfg, err := decode[goservice.SignConfig](raw)
	if err != nil {
		return nil, err
	}
	pub, err := decode[goservice.PublishValue](deps["publish"].Value)
	if err != nil {
		return nil, err
	}
	ref, err := name.NewDigest(pub.Ref)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", pub.Ref, err)
	}
	s, err := signer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sigs, err := sign.Index(ctx, ref, s)
	if err != nil {
		return nil, err
	}
	if err := writePublicKey(s, out); err != nil {
		return nil, err
	}
	v := goservice.SignValue{Ref: pub.Ref}
	for _, sig := range sigs {
		v.Signatures = append(v.Signatures, runner.Signature{Subject: sig.Subject, Ref: sig.Ref})
	}
	r, err := runner.NewResult(v, fmt.Sprintf("%d signatures", len(sigs)))
	if err != nil {
		return nil, err
	}
	r.Export = []string{goservice.PublicKeyFile}
	return r, nil
}
