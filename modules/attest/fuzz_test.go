package attest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
)

// FuzzStatementJSON: any input either fails to decode or decodes to a
// statement that re-encodes to JSON decoding to the same statement.
func FuzzStatementJSON(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"r","digest":{"sha256":"` +
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + `"}}],"predicateType":"https://spdx.dev/Document","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha512":"00"}}]}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st Statement
		if err := json.Unmarshal(b, &st); err != nil {
			return
		}
		out, err := json.Marshal(&st)
		if err != nil {
			// Predicate holds whatever the input held; only invalid JSON
			// there may fail to re-encode.
			return
		}
		var back Statement
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-encoded statement does not decode: %v\n%s", err, out)
		}
		again, _ := json.Marshal(&back)
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n%s", out, again)
		}
		_ = back.Validate() // must not panic
	})
}

// FuzzParseEnvelope: any envelope either fails or yields a statement.
func FuzzParseEnvelope(f *testing.F) {
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` +
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" + `"}}],"predicateType":"x","predicate":{"a":1}}`
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` + base64.StdEncoding.EncodeToString([]byte(st)) + `","signatures":[]}`))
	f.Add([]byte(`{"payloadType":"text/plain","payload":"aGk="}`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"!!"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseEnvelope(b)
		if err == nil && s == nil {
			t.Fatal("nil statement without error")
		}
	})
}
