package goservice

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/modules/sign"
	"github.com/pavedhq/paved/runner"
)

// SignValue is the sign step's result.
type SignValue struct {
	Ref        string           `json:"ref"` // the signed index
	Signatures []sign.Signature `json:"signatures"`
}

const publicKeyFile = "cosign.pub"

// signStep signs the published index and each platform manifest.
type signStep struct {
	signer *signerOnce
}

var (
	_ runner.Keyed       = (*signStep)(nil)
	_ runner.Revalidator = (*signStep)(nil)
)

func (s *signStep) Name() string { return "sign" }

func (s *signStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	id, ok := s.signer.identity()
	if !ok {
		return "", nil
	}
	var pub PublishValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return "", err
	}
	return runner.NewKey().String("step", "sign/v1").String("ref", pub.Ref).String("signer", id).Sum(), nil
}

// Revalidate checks the registry still holds a signature by this key.
func (s *signStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v SignValue
	if err := r.Decode(&v); err != nil || len(v.Signatures) == 0 {
		return false, nil
	}
	ref, err := name.NewDigest(v.Ref)
	if err != nil {
		return false, nil
	}
	_, err = sign.Verify(ctx, ref, sign.Policy{Key: filepath.Join(r.Dir, publicKeyFile)})
	return err == nil, nil
}

func (s *signStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	var pub PublishValue
	if err := in.Deps["publish"].Decode(&pub); err != nil {
		return nil, err
	}
	ref, err := name.NewDigest(pub.Ref)
	if err != nil {
		return nil, fmt.Errorf("signing %s: %w", pub.Ref, err)
	}
	signer, err := s.signer.get(ctx)
	if err != nil {
		return nil, err
	}
	sigs, err := sign.Index(ctx, ref, signer)
	if err != nil {
		return nil, err
	}
	if pem, err := publicKeyPEM(signer); err == nil {
		if err := os.WriteFile(filepath.Join(in.OutDir, publicKeyFile), pem, 0o644); err != nil {
			return nil, err
		}
	}
	r, err := runner.NewResult(SignValue{Ref: pub.Ref, Signatures: sigs}, fmt.Sprintf("%d signatures", len(sigs)))
	if err != nil {
		return nil, err
	}
	r.Export = []string{publicKeyFile}
	return r, nil
}
