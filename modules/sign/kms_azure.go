//go:build paved_kms_azure || paved_kms_all

package sign

// Links sigstore's built-in azure KMS provider (see kms.go).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
