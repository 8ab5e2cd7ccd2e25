package events

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	rec := &Record{V: recordVersion, Sink: "structured+https://dora.example.com/v1/events", Created: time.Unix(1767225600, 0).UTC(),
		Attempts: 2, Next: time.Unix(1767225700, 0).UTC(), LastError: "503", Event: testEvent(t, "rt")}
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := got.Marshal()
	if !bytes.Equal(b, again) {
		t.Errorf("round trip:\n%s\n%s", b, again)
	}
	for name, bad := range map[string]string{
		"version":       strings.Replace(string(b), `"v":1`, `"v":2`, 1),
		"unknown field": strings.Replace(string(b), `"v":1`, `"v":1,"x":1`, 1),
		"relative file": strings.Replace(string(b), `structured+https://dora.example.com/v1/events`, `file:rel/x`, 1),
		"credentials":   strings.Replace(string(b), `https://dora`, `https://u:p@dora`, 1),
		"no event id":   strings.Replace(string(b), `"id":"rt/incident.detected"`, `"id":""`, 1),
		"trailing data": string(b) + "{}",
		"negative":      strings.Replace(string(b), `"attempts":2`, `"attempts":-1`, 1),
	} {
		if _, err := ParseRecord([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// FuzzParseRecord: whatever a spool file holds (a torn write, another
// version, garbage), parsing returns a record that encodes and parses
// back to the same, or an error; never a panic.
func FuzzParseRecord(f *testing.F) {
	rec := &Record{V: recordVersion, Sink: "https://dora.example.com/v1/events", Created: time.Unix(1767225600, 0).UTC(), Event: testEvent(f, "seed")}
	b, _ := rec.Marshal()
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte(`{"v":1,"sink":"stdout","created":"2026-01-01T00:00:00Z","attempts":0,"event":{"specversion":"1.0","id":"a","source":"s","type":"t"}}`))
	f.Add([]byte(`{"v":1,"sink":"file:/x","event":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := ParseRecord(b)
		if err != nil {
			return
		}
		out, err := rec.Marshal()
		if err != nil {
			t.Fatalf("parsed record does not encode: %v", err)
		}
		again, err := ParseRecord(out)
		if err != nil {
			t.Fatalf("re-encoded record does not parse: %v\n%s", err, out)
		}
		if again.Sink != rec.Sink || again.Event.ID() != rec.Event.ID() || again.Attempts != rec.Attempts {
			t.Fatalf("round trip changed the record:\n%s", out)
		}
	})
}

// FuzzParseSpec: a sink from a flag, paved.yaml or the environment is
// accepted only in a form the spool can store and open again.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"stdout", "file:out.jsonl", "https://dora.example.com/v1/events", "structured+http://127.0.0.1:8080/", "binary+https://h/p?q=1", "ftp://x", "https://u:p@h/", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			return
		}
		if err := spec.check(); err != nil {
			t.Fatalf("ParseSpec(%q) = %q, which the spool refuses: %v", s, spec, err)
		}
		if _, err := spec.Open("", nil); err != nil {
			t.Fatalf("ParseSpec(%q) = %q, which does not open: %v", s, spec, err)
		}
	})
}
