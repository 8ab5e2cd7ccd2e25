// Package sign signs and verifies container images with cosign signatures.
//
// A Signer holds one identity: a cosign key pair (LoadKey with a key file),
// a KMS key (LoadKey with a NAME:// URI: sigstore's awskms, gcpkms, azurekms
// or hashivault provider when built in with its paved_kms_* tag, else a
// sigstore-kms-NAME plugin on PATH), or an ephemeral key certified by Fulcio for an OIDC
// token (Keyless). Index signs an image index and every manifest it lists and
// stores the signatures in cosign's classic layout: a sha256-<hex>.sig tag
// in the image's repository holding simplesigning payloads, which cosign v2
// and v3 both verify. New signatures are appended to that tag, so other
// signers' signatures survive, and the image itself is never pushed again.
//
// Key signatures are not recorded in a transparency log, so signing works
// offline and Verify with a Policy.Key ignores the log. Keyless signatures
// are recorded in Rekor, and Verify requires the log's signed entry
// timestamp, the certificate chain up to the trusted Fulcio root and the
// certificate's embedded SCT. A keyless Signer makes the same checks, with
// sigstore-go's verifiers, on what Fulcio and Rekor return before it signs
// or stores anything (see the Err* reasons).
package sign
