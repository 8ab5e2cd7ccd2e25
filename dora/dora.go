// Package dora computes the four DORA keys — deployment frequency, lead
// time for changes, change failure rate and time to restore — per team,
// service and period, from the CDEvents that paved and other tools emit.
//
// The collector (paved dora serve) stores events and answers Query with a
// Report; its surfaces (the JSON API, Prometheus metrics, the dashboard and
// the Parquet export) all read the same Report, so they cannot disagree.
package dora

import (
	"context"
	"encoding/json"
	"time"
)

// Bucket is the period the keys are grouped by.
type Bucket string

const (
	Day   Bucket = "day"
	Week  Bucket = "week" // ISO weeks, starting Monday 00:00 UTC
	Month Bucket = "month"
)

// Production is the environment the keys are computed for unless a query
// names another.
const Production = "production"

// Query selects what a Report covers. Empty Team or Service means all;
// Teams, when not nil, limits the answer to those teams whatever Team says
// (it is how a caller's token restricts what it may see).
type Query struct {
	Teams       []string
	Team        string
	Service     string
	Environment string // default Production
	From, To    time.Time
	Bucket      Bucket // default Week
}

// Stat summarises durations: how many, their median and 90th percentile.
type Stat struct {
	Count  int
	Median time.Duration
	P90    time.Duration
}

// MarshalJSON writes durations as seconds, which every consumer of the API
// and the export can read without knowing Go's nanoseconds.
func (s Stat) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count         int     `json:"count"`
		MedianSeconds float64 `json:"medianSeconds"`
		P90Seconds    float64 `json:"p90Seconds"`
	}{s.Count, s.Median.Seconds(), s.P90.Seconds()})
}

// Keys are the four keys over one period for one team and service.
type Keys struct {
	Deployments int `json:"deployments"`
	// DeploymentsPerDay is Deployments divided by the days in the period.
	DeploymentsPerDay float64 `json:"deploymentsPerDay"`
	// LeadTime is over every commit first deployed to the environment in
	// the period: commit time to that first deployment.
	LeadTime Stat `json:"leadTime"`
	// FailedDeployments are those with at least one incident attributed;
	// ChangeFailureRate is FailedDeployments / Deployments, in [0, 1].
	FailedDeployments int     `json:"failedDeployments"`
	ChangeFailureRate float64 `json:"changeFailureRate"`
	// TimeToRestore is over incidents restored in the period.
	TimeToRestore Stat `json:"timeToRestore"`
}

// Band is a DORA performance level.
type Band string

const (
	Elite  Band = "elite"
	High   Band = "high"
	Medium Band = "medium"
	Low    Band = "low"
)

// Bands rates each key.
type Bands struct {
	DeploymentFrequency Band `json:"deploymentFrequency"`
	LeadTime            Band `json:"leadTime"`
	ChangeFailureRate   Band `json:"changeFailureRate"`
	TimeToRestore       Band `json:"timeToRestore"`
}

// Row is one team and service over one bucket.
type Row struct {
	Team    string    `json:"team"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // exclusive
	Keys
}

// Total is one team and service over the whole queried period, rated.
type Total struct {
	Team    string `json:"team"`
	Service string `json:"service"`
	Keys
	Bands Bands `json:"bands"`
}

// Report answers a Query: Rows ordered by team, service and start, every
// bucket present (zero keys when nothing happened), and one Total per team
// and service.
type Report struct {
	Query  Query   `json:"query"`
	Rows   []Row   `json:"rows"`
	Totals []Total `json:"totals"`
}

// Team is a team the collector has seen, with its services.
type Team struct {
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

// Metrics answers queries over the stored events.
type Metrics interface {
	Metrics(ctx context.Context, q Query) (*Report, error)
	Teams(ctx context.Context) ([]Team, error)
}
