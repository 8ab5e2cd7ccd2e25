package ingest

import (
	"net/http"
	"testing"
)

// FuzzDecode feeds arbitrary bodies to the structured and batch decoders
// and the CDEvent interpreter: they must not panic, and what they accept
// must be a CloudEvent 1.0 with its required attributes.
func FuzzDecode(f *testing.F) {
	f.Add(Batch, []byte(`[{"specversion":"1.0","id":"1","source":"s","type":"dev.cdevents.service.deployed.0.2.0","time":"2025-03-03T10:00:00Z","data":{"context":{"timestamp":"2025-03-03T10:00:00Z"},"subject":{"id":"api","content":{"environment":{"id":"production"},"artifactId":"pkg:oci/api@sha256%3Aabc?repository_url=r/api"}},"customData":{"team":"t","commits":[{"sha":"c1","time":"2025-03-03T09:00:00Z"}],"resolves":["I1"]}}}]`))
	f.Add(Structured, []byte(`{"specversion":"1.0","id":"1","source":"s","type":"dev.cdevents.incident.detected.0.2.0","data":{"context":{"timestamp":"2025-03-03T10:00:00Z"},"subject":{"id":"I1","content":{"environment":{"id":"production"},"service":{"id":"api"}}}}}`))
	f.Add(Structured, []byte(`{"specversion":"1.0","id":"1","source":"s","type":"x","datacontenttype":"text/plain","data_base64":"aGVsbG8="}`))
	f.Add(Batch, []byte(`[]`))
	f.Add(Batch, []byte(`[{"id":`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		evs, err := Decode(http.Header{"Content-Type": {ct}}, body)
		if err != nil {
			return
		}
		for i := range evs {
			e := &evs[i]
			if e.ID == "" || e.Source == "" || e.Type == "" || e.SpecVersion != "1.0" {
				t.Fatalf("accepted an event without its required attributes: %+v", e)
			}
			e.Interpret()
		}
	})
}

func TestPurlDigest(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"pkg:oci/api@sha256:abc?repository_url=r": "sha256:abc",
		"pkg:oci/api@sha256%3Aabc":                "sha256:abc",
		"pkg:oci/api@v1.2":                        "",
		"pkg:oci/api":                             "",
	} {
		got, err := purlDigest(in)
		if err != nil || got != want {
			t.Errorf("purlDigest(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := purlDigest("docker.io/x@sha256:abc"); err == nil {
		t.Error("a reference that is not a purl was accepted")
	}
}
