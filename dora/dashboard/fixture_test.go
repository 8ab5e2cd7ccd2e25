package dashboard

import (
	"context"
	"time"

	"github.com/pavedhq/paved/dora"
)

// fixedReport is a hand-made Report: the renderer is a pure function of
// one, so these tests need no store (the API's tests use the real one).
func fixedReport() *dora.Report {
	from := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC) // a Monday
	q := dora.Query{Environment: dora.Production, From: from, To: from.AddDate(0, 0, 56), Bucket: dora.Week}
	r := &dora.Report{Query: q}
	for _, ts := range []struct {
		team, service string
		scale         int
	}{{"payments", "api", 1}, {"payments", "ledger", 2}, {"search", "indexer", 3}} {
		var total dora.Total
		total.Team, total.Service = ts.team, ts.service
		for i := range 8 {
			start := from.AddDate(0, 0, 7*i)
			k := dora.Keys{Deployments: (i%4 + 1) * ts.scale}
			k.DeploymentsPerDay = float64(k.Deployments) / 7
			k.LeadTime = dora.Stat{Count: k.Deployments * 2, Median: time.Duration(i+2) * time.Hour * time.Duration(ts.scale), P90: time.Duration(i+5) * time.Hour}
			if i%3 == 1 {
				k.FailedDeployments = 1
				k.ChangeFailureRate = 1 / float64(k.Deployments)
				k.TimeToRestore = dora.Stat{Count: 1, Median: time.Duration(30+10*i) * time.Minute, P90: time.Duration(30+10*i) * time.Minute}
			}
			r.Rows = append(r.Rows, dora.Row{Team: ts.team, Service: ts.service, Start: start, End: start.AddDate(0, 0, 7), Keys: k})
			total.Deployments += k.Deployments
			total.FailedDeployments += k.FailedDeployments
		}
		total.DeploymentsPerDay = float64(total.Deployments) / 56
		total.ChangeFailureRate = float64(total.FailedDeployments) / float64(total.Deployments)
		total.LeadTime = dora.Stat{Count: 40, Median: 5 * time.Hour, P90: 30 * time.Hour}
		total.TimeToRestore = dora.Stat{Count: 3, Median: 50 * time.Minute, P90: 90 * time.Minute}
		total.Bands = dora.Bands{DeploymentFrequency: dora.High, LeadTime: dora.Elite, ChangeFailureRate: dora.Medium, TimeToRestore: dora.Low}
		r.Totals = append(r.Totals, total)
	}
	return r
}

// fixed answers every query with the same report, filtered to q.Teams as a
// store would.
type fixed struct{ r *dora.Report }

func (f fixed) Metrics(_ context.Context, q dora.Query) (*dora.Report, error) {
	r := *f.r
	r.Rows, r.Totals = nil, nil
	for _, x := range f.r.Rows {
		if q.Teams == nil || contains(q.Teams, x.Team) {
			r.Rows = append(r.Rows, x)
		}
	}
	for _, x := range f.r.Totals {
		if q.Teams == nil || contains(q.Teams, x.Team) {
			r.Totals = append(r.Totals, x)
		}
	}
	return &r, nil
}

func (f fixed) Teams(context.Context) ([]dora.Team, error) { return nil, nil }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
