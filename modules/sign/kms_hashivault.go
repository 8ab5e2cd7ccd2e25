//go:build paved_kms_hashivault || paved_kms_all

package sign

// Links sigstore's built-in hashivault KMS provider (see kms.go).
import _ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
