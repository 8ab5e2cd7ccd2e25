package sign

import (
	"bytes"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature/dsse"
)

// In-toto statements travel in DSSE envelopes of this payload type, stored
// as layers of this media type.
const (
	InTotoPayloadType = "application/vnd.in-toto+json"
	dsseMediaType     = "application/vnd.dsse.envelope.v1+json"
)

// envelope signs statement into a DSSE envelope (JSON).
func (s *Signer) envelope(statement []byte) ([]byte, error) {
	env, err := dsse.WrapSigner(s.SignerVerifier, InTotoPayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil {
		return nil, fmt.Errorf("sign DSSE envelope: %w", err)
	}
	return env, nil
}
