// Package attest makes in-toto attestations about images, signs them and
// stores them next to the image, where cosign finds them.
//
// Provenance builds an in-toto Statement v1 with a SLSA provenance v1
// predicate; Predicate wraps any other predicate, such as an SPDX or
// CycloneDX SBOM. Both are checked with the in-toto attestation library's
// validators. Attach signs a Statement as a DSSE envelope with a sign.Signer
// and appends it to the image's sha256-<hex>.att tag (cosign's classic
// layout); Verify returns the statements whose signatures satisfy a
// sign.Policy.
package attest
