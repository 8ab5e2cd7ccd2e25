package store_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/synth"
)

// TestSynthThroughStore ingests a generated history over HTTP and checks
// the keys against what the generator knows it made: every deployment
// (rollbacks included) counted, every commit's lead time counted once.
func TestSynthThroughStore(t *testing.T) {
	hist := synth.Generate(synth.Config{Seed: 7, Teams: 6, Days: 120, Pipeline: true})
	forEach(t, func(t *testing.T, b backend) {
		st, _ := open(t, b)
		srv := httptest.NewServer(ingest.Handler(st, ingest.Options{}))
		defer srv.Close()
		for i := 0; i < len(hist.Events); i += 500 {
			body, _ := json.Marshal(hist.Events[i:min(i+500, len(hist.Events))])
			if code, resp := post(t, srv.URL, body); code != 200 {
				t.Fatalf("POST: %d %s", code, resp)
			}
		}
		start := hist.Events[0].Time.Truncate(24 * 60 * 60 * 1e9)
		rep, err := st.Metrics(context.Background(), dora.Query{From: start.AddDate(0, 0, -1), To: start.AddDate(0, 0, 200), Bucket: dora.Month})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]dora.Total{}
		for _, tot := range rep.Totals {
			got[tot.Team+"/"+tot.Service] = tot
			if tot.ChangeFailureRate > 1 {
				t.Errorf("%s/%s: change failure rate %v", tot.Team, tot.Service, tot.ChangeFailureRate)
			}
		}
		for _, tr := range hist.Truth {
			tot := got[tr.Team+"/"+tr.Service]
			if tot.Deployments != tr.Deployments || tot.LeadTime.Count != tr.Commits {
				t.Errorf("%s/%s: %d deployments, %d commits with a lead time; generated %d and %d", tr.Team, tr.Service, tot.Deployments, tot.LeadTime.Count, tr.Deployments, tr.Commits)
			}
			if tot.TimeToRestore.Count > tr.Incidents || tot.FailedDeployments > tr.Incidents {
				t.Errorf("%s/%s: %d restored, %d failed deployments from %d incidents", tr.Team, tr.Service, tot.TimeToRestore.Count, tot.FailedDeployments, tr.Incidents)
			}
		}
		if len(rep.Totals) != len(hist.Truth) {
			t.Errorf("%d totals, generated %d services", len(rep.Totals), len(hist.Truth))
		}
	})
}
