package sign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/cosign/v3/pkg/blob"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/kms"
	"github.com/sigstore/sigstore/pkg/signature/kms/cliplugin"
)

// The cloud KMS providers are not linked by default: their SDKs are most of
// a cold compile of paved-worker and few users need them. A KMS URI is
// served by a provider built in with its tag (kms_*.go), or else by a
// sigstore KMS plugin: a program named sigstore-kms-<scheme> on PATH.

// kmsBuildTags are the build tags that link sigstore's built-in providers.
var kmsBuildTags = map[string]string{
	"awskms":     "paved_kms_aws",
	"gcpkms":     "paved_kms_gcp",
	"azurekms":   "paved_kms_azure",
	"hashivault": "paved_kms_hashivault",
}

// kmsScheme reports the scheme of a KMS URI, without "://": any scheme but
// file, which names a key file.
func kmsScheme(ref string) (string, bool) {
	scheme, _, ok := strings.Cut(ref, "://")
	if !ok || scheme == "" || scheme == "file" || strings.ContainsAny(scheme, `/\`) {
		return "", false
	}
	return scheme, true
}

// loadKMS returns the KMS key ref names, from a built-in provider or a
// plugin. When neither serves the scheme, the error says what to install
// or build.
func loadKMS(ctx context.Context, scheme, ref string) (kms.SignerVerifier, error) {
	sv, err := kms.Get(ctx, ref, crypto.SHA256)
	if err == nil {
		return sv, nil
	}
	var nf *kms.ProviderNotFoundError
	if !errors.As(err, &nf) {
		return nil, err
	}
	msg := fmt.Sprintf("no KMS provider for %s:// in this build: put a sigstore KMS plugin named %s%s on PATH",
		scheme, cliplugin.PluginBinaryPrefix, scheme)
	if tag, ok := kmsBuildTags[scheme]; ok {
		msg += fmt.Sprintf(", or build paved-worker with -tags %s", tag)
	}
	return nil, errors.New(msg)
}

// loadPublicKey returns a verifier for a PEM public key (a file, an
// https:// URL or env://VAR, as cosign reads them) or a KMS key.
func loadPublicKey(ctx context.Context, ref string) (signature.Verifier, error) {
	if scheme, ok := kmsScheme(ref); ok && scheme != "http" && scheme != "https" && scheme != "env" {
		sv, err := loadKMS(ctx, scheme, ref)
		if err != nil {
			return nil, fmt.Errorf("KMS provider %s: %w", scheme, err)
		}
		return sv, nil
	}
	raw, err := blob.LoadFileOrURL(ref)
	if err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("pem to public key: %w", err)
	}
	return signature.LoadVerifier(pub, crypto.SHA256)
}
