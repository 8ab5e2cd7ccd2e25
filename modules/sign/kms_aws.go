//go:build paved_kms_aws || paved_kms_all

package sign

// Links sigstore's built-in aws KMS provider (see kms.go).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
