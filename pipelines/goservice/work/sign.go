package work

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/pavedhq/paved/modules/sign"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// signer loads the key or, keyless, gets a certificate for the token.
func signer(ctx context.Context, cfg goservice.SignConfig, secrets protocol.Secrets) (*sign.Signer, error) {
	if cfg.Key != "" {
		return sign.LoadKey(ctx, cfg.Key, secrets.Password)
	}
	return sign.Keyless(ctx, sign.KeylessOptions{FulcioURL: cfg.FulcioURL, RekorURL: cfg.RekorURL, TrustedRoot: cfg.TrustedRoot, IDToken: secrets.IDToken})
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

// Sign implements protocol.Executor.
func (Executor) Sign(ctx context.Context, req protocol.SignRequest) (*protocol.Result[protocol.SignValue], error) {
	cfg, pub, out := req.Config, req.Publish, req.OutDir
	ref, err := name.NewDigest(pub.Ref)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", pub.Ref, err)
	}
	s, err := signer(ctx, cfg, req.Secrets)
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
	return &protocol.Result[protocol.SignValue]{Value: v, Summary: fmt.Sprintf("%d signatures", len(sigs)),
		Export: []string{goservice.PublicKeyFile}}, nil
}
