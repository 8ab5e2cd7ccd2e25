package attest

import (
	_ "github.com/in-toto/attestation/go/predicates/provenance/v1"
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/sigstore/cosign/v3/cmd/cosign/cli/attest"
	_ "github.com/sigstore/sigstore/pkg/signature/dsse"
)
