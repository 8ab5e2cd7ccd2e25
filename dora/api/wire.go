package api

import (
	"math"
	"time"

	"github.com/pavedhq/paved/dora"
)

// The JSON of GET /v1/metrics. dora's types write themselves (durations in
// seconds); these read them back and name the query's fields in the API's
// lower-case style.

// Query is the query an answer covers.
type Query struct {
	Team        string      `json:"team"`
	Service     string      `json:"service"`
	Environment string      `json:"environment"`
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	Bucket      dora.Bucket `json:"bucket"`
}

type wireStat struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"medianSeconds"`
	P90Seconds    float64 `json:"p90Seconds"`
}

type wireKeys struct {
	Deployments       int      `json:"deployments"`
	DeploymentsPerDay float64  `json:"deploymentsPerDay"`
	LeadTime          wireStat `json:"leadTime"`
	FailedDeployments int      `json:"failedDeployments"`
	ChangeFailureRate float64  `json:"changeFailureRate"`
	TimeToRestore     wireStat `json:"timeToRestore"`
}

type wireRow struct {
	Team    string    `json:"team"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	wireKeys
}

type wireTotal struct {
	Team    string `json:"team"`
	Service string `json:"service"`
	wireKeys
	Bands dora.Bands `json:"bands"`
}

// Response is the JSON of GET /v1/metrics: the Report with its query
// spelled in the API's style (and without the token's teams).
type Response struct {
	Query  Query        `json:"query"`
	Rows   []dora.Row   `json:"rows"`
	Totals []dora.Total `json:"totals"`
}

// decoded is what the client reads.
type decoded struct {
	Query  Query       `json:"query"`
	Rows   []wireRow   `json:"rows"`
	Totals []wireTotal `json:"totals"`
}

// NewResponse is r as the API answers it.
func NewResponse(r *dora.Report) Response {
	q := r.Query
	out := Response{
		Query:  Query{Team: q.Team, Service: q.Service, Environment: q.Environment, From: q.From, To: q.To, Bucket: q.Bucket},
		Rows:   r.Rows,
		Totals: r.Totals,
	}
	// Empty lists are [] in the JSON, never null.
	if out.Rows == nil {
		out.Rows = []dora.Row{}
	}
	if out.Totals == nil {
		out.Totals = []dora.Total{}
	}
	return out
}

func (d *decoded) report() *dora.Report {
	q := d.Query
	r := &dora.Report{
		Query:  dora.Query{Team: q.Team, Service: q.Service, Environment: q.Environment, From: q.From, To: q.To, Bucket: q.Bucket},
		Rows:   make([]dora.Row, 0, len(d.Rows)),
		Totals: make([]dora.Total, 0, len(d.Totals)),
	}
	for _, w := range d.Rows {
		r.Rows = append(r.Rows, dora.Row{Team: w.Team, Service: w.Service, Start: w.Start, End: w.End, Keys: w.keys()})
	}
	for _, w := range d.Totals {
		r.Totals = append(r.Totals, dora.Total{Team: w.Team, Service: w.Service, Keys: w.keys(), Bands: w.Bands})
	}
	return r
}

func (w wireKeys) keys() dora.Keys {
	return dora.Keys{
		Deployments:       w.Deployments,
		DeploymentsPerDay: w.DeploymentsPerDay,
		LeadTime:          w.LeadTime.stat(),
		FailedDeployments: w.FailedDeployments,
		ChangeFailureRate: w.ChangeFailureRate,
		TimeToRestore:     w.TimeToRestore.stat(),
	}
}

func (w wireStat) stat() dora.Stat {
	return dora.Stat{Count: w.Count, Median: seconds(w.MedianSeconds), P90: seconds(w.P90Seconds)}
}

// seconds turns the JSON's seconds back into a Duration, to the
// nanosecond for any duration under ~100 days (float64's precision).
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}
