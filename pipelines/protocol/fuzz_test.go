package protocol

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// FuzzServe feeds the worker's request parser arbitrary input: it must
// answer or refuse, never panic.
func FuzzServe(f *testing.F) {
	f.Add(`{"task":"sbom","request":{"config":{"dir":"/s"},"build":{"value":{"digest":"sha256:ab"},"dir":"/b"}}}`)
	f.Add(`{"task":"evaluate","request":{"ref":"r@sha256:ab","policy":{}}}`)
	f.Add(`{"task":"sign","request":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		Serve(context.Background(), strings.NewReader(in), &bytes.Buffer{}, &recorder{}, Secrets{})
	})
}
