//go:build paved_kms_gcp || paved_kms_all

package sign

// Links sigstore's built-in gcp KMS provider (see kms.go).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
