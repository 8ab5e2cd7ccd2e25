package ingest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/runner/events"
)

// TestReadsWhatPavedSends decodes the events paved's runner builds (the
// sending side of the wire contract) and checks what the keys read.
func TestReadsWhatPavedSends(t *testing.T) {
	at := time.Date(2025, 3, 3, 15, 0, 0, 0, time.UTC)
	digest := "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	purl := events.PURL("registry.example", "payments/api", digest)
	for _, o := range []events.Origin{{Team: "payments", Service: "api"}, {Service: "api"}} {
		dep, err := o.Deployed(events.Deployment{Environment: "production", ArtifactID: purl, Digest: digest, Commit: "c2",
			Commits: []events.Commit{{SHA: "c1", Author: "ada", Time: at.Add(-2 * time.Hour)}, {SHA: "c2"}}, Time: at})
		if err != nil {
			t.Fatal(err)
		}
		inc, err := o.IncidentEvent(events.IncidentDetected, events.Incident{ID: "INC-1", Environment: "production", ArtifactID: purl, Time: at.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal([]*events.Event{dep, inc})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := ingest.Decode(http.Header{"Content-Type": {ingest.Batch}}, body)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		for i := range evs {
			f, err := evs[i].Interpret()
			if err != nil {
				t.Fatalf("%s: %v", evs[i].Type, err)
			}
			got = append(got, f)
		}
		want := []any{
			&ingest.Deployment{Team: o.Team, Service: "api", Environment: "production", Kind: "deployed", Digest: digest, At: at,
				Commits: []ingest.Commit{{SHA: "c1", Time: at.Add(-2 * time.Hour)}}}, // c2 has no time: no lead time
			&ingest.Incident{ID: "INC-1", Team: o.Team, Service: "api", Environment: "production", Digest: digest, Detected: at.Add(time.Hour)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("origin %+v (-want +got):\n%s", o, diff)
		}
	}
}
