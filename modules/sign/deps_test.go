package sign

import (
	_ "github.com/sigstore/sigstore-go/pkg/testing/ca"
)
