package sign

import (
	_ "github.com/sigstore/cosign/v3/cmd/cosign/cli/sign"
	_ "github.com/sigstore/cosign/v3/cmd/cosign/cli/verify"
	_ "github.com/sigstore/cosign/v3/pkg/cosign"
	_ "github.com/sigstore/sigstore/pkg/signature"
)
