package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/internal/wire"
	"github.com/pavedhq/paved/dora/store"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// golden is a small history whose keys are computed by hand below. Team
// payments, service api; team search, service index.
//
//	D0  02-24 10:00 api  d0  carries c0 (before the period)
//	D1  03-03 15:00 api  d1  carries c1 (a squash merge, 03-03 09:00)       lead 6h
//	D2  03-04 10:00 api  d2  carries c2 c3 c4 (a batched deploy of three:
//	                         11:00, 12:00, 13:00 on 03-03)                  leads 23h 22h 21h
//	I1  03-04 12:00 detected naming d1: attributed by digest to D1, not to
//	                D2 that was live; resolved 13:30                        restore 1h30m
//	I2  03-05 09:00 detected naming no artifact: attributed by time to D2
//	R   03-05 10:00 api  rolled back to d1, resolving I2                    restore 1h
//	                (an incident.resolved for I2 at 10:30 comes later and loses)
//	staging 03-10 17:00 api carries c5: another environment, ignored
//	D3  03-11 10:00 api  d3  carries c2 c3 c4 again (rolled forward) and
//	                         c5 (03-10 16:00): only c5 counts               lead 18h
//	D4  03-12 10:00 api  d4  carries c6 (squash merge, 08:00)               lead 2h
//	I3  03-12 11:00 detected, no artifact: attributed by time to D4
//	D5  03-13 11:00 api  d5  carries c7 (09:00), resolving I3 (fix forward) lead 2h, restore 24h
//	S1  03-05 12:00 index s1 carries s1c (10:00)                            lead 2h
//	I4  03-06 12:00 detected on index by another tool: no team, no artifact:
//	                team from index's deployments, attributed by time to S1;
//	                resolved 14:00                                          restore 2h
//
// D1 is delivered twice; it counts once.
func golden() []wire.Event {
	const api, src = "api", "paved/payments"
	dep := func(id, when, digest, prev string, kind string, commits []wire.Commit, resolves ...string) wire.Event {
		return wire.Deploy{Source: src, ID: id, Kind: kind, Team: "payments", Service: api, Digest: digest, Previous: prev, At: at(when), Commits: commits, Resolves: resolves}.Event()
	}
	c := func(sha, when string) wire.Commit { return wire.Commit{SHA: sha, Time: at(when)} }
	d := func(n string) string { return "sha256:" + strings.Repeat(n, 64)[:64] }
	c2, c3, c4 := c("c2", "2025-03-03 11:00"), c("c3", "2025-03-03 12:00"), c("c4", "2025-03-03 13:00")
	return []wire.Event{
		dep("D0", "2025-02-24 10:00", d("0"), "", "", []wire.Commit{c("c0", "2025-02-24 08:00")}),
		dep("D1", "2025-03-03 15:00", d("1"), d("0"), "", []wire.Commit{c("c1", "2025-03-03 09:00")}),
		dep("D1", "2025-03-03 15:00", d("1"), d("0"), "", []wire.Commit{c("c1", "2025-03-03 09:00")}),
		dep("D2", "2025-03-04 10:00", d("2"), d("1"), "", []wire.Commit{c2, c3, c4}),
		wire.Incident{Source: "pager", ID: "I1-open", Incident: "I1", Team: "payments", Service: api, Digest: d("1"), At: at("2025-03-04 12:00")}.Event(),
		wire.Incident{Source: "pager", ID: "I1-close", Kind: "resolved", Incident: "I1", Team: "payments", Service: api, At: at("2025-03-04 13:30")}.Event(),
		wire.Incident{Source: "pager", ID: "I2-open", Incident: "I2", Team: "payments", Service: api, At: at("2025-03-05 09:00")}.Event(),
		dep("R", "2025-03-05 10:00", d("1"), d("2"), "rolledback", nil, "I2"),
		wire.Incident{Source: "pager", ID: "I2-close", Kind: "resolved", Incident: "I2", Team: "payments", Service: api, At: at("2025-03-05 10:30")}.Event(),
		wire.Deploy{Source: src, ID: "STG", Team: "payments", Service: api, Environment: "staging", Digest: d("5"), At: at("2025-03-10 17:00"), Commits: []wire.Commit{c("c5", "2025-03-10 16:00")}}.Event(),
		dep("D3", "2025-03-11 10:00", d("3"), d("1"), "", []wire.Commit{c2, c3, c4, c("c5", "2025-03-10 16:00")}),
		dep("D4", "2025-03-12 10:00", d("4"), d("3"), "", []wire.Commit{c("c6", "2025-03-12 08:00")}),
		wire.Incident{Source: "pager", ID: "I3-open", Incident: "I3", Team: "payments", Service: api, At: at("2025-03-12 11:00")}.Event(),
		dep("D5", "2025-03-13 11:00", d("5"), d("4"), "", []wire.Commit{c("c7", "2025-03-13 09:00")}, "I3"),
		wire.Deploy{Source: "paved/search", ID: "S1", Team: "search", Service: "index", Digest: d("a"), At: at("2025-03-05 12:00"), Commits: []wire.Commit{c("s1c", "2025-03-05 10:00")}}.Event(),
		wire.Incident{Source: "other-tool", ID: "I4-open", Incident: "I4", Service: "index", At: at("2025-03-06 12:00")}.Event(),
		wire.Incident{Source: "other-tool", ID: "I4-close", Kind: "resolved", Incident: "I4", Service: "index", At: at("2025-03-06 14:00")}.Event(),
	}
}

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

func post(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, ingest.Batch, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestGolden(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		st, _ := open(t, b)
		srv := httptest.NewServer(ingest.Handler(st, ingest.Options{}))
		defer srv.Close()
		// In two requests, out of order: the keys must not depend on arrival.
		evs := golden()
		if code, body := post(t, srv.URL, wire.Batch(evs[9:]...)); code != 200 {
			t.Fatalf("POST: %d %s", code, body)
		}
		code, body := post(t, srv.URL, wire.Batch(evs[:9]...))
		if code != 200 {
			t.Fatalf("POST: %d %s", code, body)
		}
		var resp ingest.Response
		json.Unmarshal([]byte(body), &resp)
		if resp != (ingest.Response{Received: 9, Added: 8, Duplicates: 1}) {
			t.Errorf("second POST answered %+v, want 9 received, 8 added, 1 duplicate (D1 twice)", resp)
		}

		rep, err := st.Metrics(context.Background(), dora.Query{From: at("2025-03-03 00:00"), To: at("2025-03-17 00:00"), Bucket: dora.Week})
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + table(rep))

		w1, w2 := at("2025-03-03 00:00"), at("2025-03-10 00:00")
		end := at("2025-03-17 00:00")
		want := []dora.Row{
			{Team: "payments", Service: "api", Start: w1, End: w2, Keys: dora.Keys{
				Deployments: 3, DeploymentsPerDay: 3.0 / 7, FailedDeployments: 2, ChangeFailureRate: 2.0 / 3,
				LeadTime:      dora.Stat{Count: 4, Median: hours(21.5), P90: hours(23)},
				TimeToRestore: dora.Stat{Count: 2, Median: hours(1.25), P90: hours(1.5)}}},
			{Team: "payments", Service: "api", Start: w2, End: end, Keys: dora.Keys{
				Deployments: 3, DeploymentsPerDay: 3.0 / 7, FailedDeployments: 1, ChangeFailureRate: 1.0 / 3,
				LeadTime:      dora.Stat{Count: 3, Median: hours(2), P90: hours(18)},
				TimeToRestore: dora.Stat{Count: 1, Median: hours(24), P90: hours(24)}}},
			{Team: "search", Service: "index", Start: w1, End: w2, Keys: dora.Keys{
				Deployments: 1, DeploymentsPerDay: 1.0 / 7, FailedDeployments: 1, ChangeFailureRate: 1,
				LeadTime:      dora.Stat{Count: 1, Median: hours(2), P90: hours(2)},
				TimeToRestore: dora.Stat{Count: 1, Median: hours(2), P90: hours(2)}}},
			{Team: "search", Service: "index", Start: w2, End: end},
		}
		if diff := cmp.Diff(want, rep.Rows); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		wantTotals := []dora.Total{
			{Team: "payments", Service: "api", Keys: dora.Keys{
				Deployments: 6, DeploymentsPerDay: 6.0 / 14, FailedDeployments: 3, ChangeFailureRate: 0.5,
				LeadTime:      dora.Stat{Count: 7, Median: hours(18), P90: hours(23)},
				TimeToRestore: dora.Stat{Count: 3, Median: hours(1.5), P90: hours(24)}},
				// 3 days with a deployment in each week: daily, elite; lead
				// time 18h < 1 day: elite; 50% failures: low; restore 1h30m <
				// 1 day: high.
				Bands: dora.Bands{DeploymentFrequency: dora.Elite, LeadTime: dora.Elite, ChangeFailureRate: dora.Low, TimeToRestore: dora.High}},
			{Team: "search", Service: "index", Keys: dora.Keys{
				Deployments: 1, DeploymentsPerDay: 1.0 / 14, FailedDeployments: 1, ChangeFailureRate: 1,
				LeadTime:      dora.Stat{Count: 1, Median: hours(2), P90: hours(2)},
				TimeToRestore: dora.Stat{Count: 1, Median: hours(2), P90: hours(2)}},
				// One week of two with a deployment (median 0.5): not weekly;
				// March had one: monthly, medium.
				Bands: dora.Bands{DeploymentFrequency: dora.Medium, LeadTime: dora.Elite, ChangeFailureRate: dora.Low, TimeToRestore: dora.High}},
		}
		if diff := cmp.Diff(wantTotals, rep.Totals); diff != "" {
			t.Errorf("totals (-want +got):\n%s", diff)
		}

		// By day: D1 on 03-03 failed (I1), D2 on 03-04 failed (I2), R on 03-05.
		rep, err = st.Metrics(context.Background(), dora.Query{Team: "payments", From: at("2025-03-03 00:00"), To: at("2025-03-06 00:00"), Bucket: dora.Day})
		if err != nil {
			t.Fatal(err)
		}
		t.Log("\n" + table(rep))
		var got []string
		for _, r := range rep.Rows {
			got = append(got, fmt.Sprintf("%s %d/%d lead %v restore %v", r.Start.Format("01-02"), r.FailedDeployments, r.Deployments, r.LeadTime.Median, r.TimeToRestore.Median))
		}
		wantDays := []string{"03-03 1/1 lead 6h0m0s restore 0s", "03-04 1/1 lead 22h0m0s restore 1h30m0s", "03-05 0/1 lead 0s restore 1h0m0s"}
		if diff := cmp.Diff(wantDays, got); diff != "" {
			t.Errorf("days (-want +got):\n%s", diff)
		}

		teams, err := st.Teams(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]dora.Team{{Name: "payments", Services: []string{"api"}}, {Name: "search", Services: []string{"index"}}}, teams); diff != "" {
			t.Errorf("teams (-want +got):\n%s", diff)
		}
		// A caller allowed only search never sees payments.
		rep, err = st.Metrics(context.Background(), dora.Query{Teams: []string{"search"}, Team: "payments", From: at("2025-03-03 00:00"), To: at("2025-03-17 00:00")})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Rows) != 0 || len(rep.Totals) != 0 {
			t.Errorf("a query limited to team search asking for payments got %d rows, %d totals", len(rep.Rows), len(rep.Totals))
		}
	})
}

func table(r *dora.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %-6s %-11s %5s %7s %6s %6s %4s %9s %9s %4s %9s %9s\n", "team", "svc", "bucket", "deps", "per day", "failed", "CFR", "LT n", "LT med", "LT p90", "TR n", "TR med", "TR p90")
	row := func(team, svc, bucket string, k dora.Keys) {
		fmt.Fprintf(&b, "%-8s %-6s %-11s %5d %7.3f %6d %5.1f%% %4d %9s %9s %4d %9s %9s\n", team, svc, bucket, k.Deployments, k.DeploymentsPerDay, k.FailedDeployments, 100*k.ChangeFailureRate,
			k.LeadTime.Count, k.LeadTime.Median, k.LeadTime.P90, k.TimeToRestore.Count, k.TimeToRestore.Median, k.TimeToRestore.P90)
	}
	for _, r := range r.Rows {
		row(r.Team, r.Service, r.Start.Format("2006-01-02"), r.Keys)
	}
	for _, tot := range r.Totals {
		row(tot.Team, tot.Service, "total", tot.Keys)
		fmt.Fprintf(&b, "%-8s %-6s bands: frequency %s, lead time %s, failure rate %s, restore %s\n", tot.Team, tot.Service, tot.Bands.DeploymentFrequency, tot.Bands.LeadTime, tot.Bands.ChangeFailureRate, tot.Bands.TimeToRestore)
	}
	return b.String()
}

var _ = store.Open
