package keys

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pavedhq/paved/dora"
)

// Deployment is one deployment to the environment.
type Deployment struct {
	Team, Service string
	Digest        string
	At            time.Time
}

// Change is one commit with its first deployment to the environment.
type Change struct {
	Team, Service       string
	Committed, Deployed time.Time
}

// Incident is one incident in the environment. Team, Service and Digest may
// be empty (other tools); Resolved is zero while it is open.
type Incident struct {
	ID, Team, Service, Digest string
	Detected, Resolved        time.Time
}

// History is everything the keys are computed from, for one environment.
type History struct {
	Deployments []Deployment
	Changes     []Change
	Incidents   []Incident
}

// DefaultPeriod is the period a query without From covers: Four Keys'
// 90 days.
const DefaultPeriod = 90 * 24 * time.Hour

// Normalize fills a query's defaults: environment production, weekly
// buckets, To now, From DefaultPeriod before To; times in UTC.
func Normalize(q dora.Query, now time.Time) dora.Query {
	if q.Environment == "" {
		q.Environment = dora.Production
	}
	if q.Bucket == "" {
		q.Bucket = dora.Week
	}
	if q.To.IsZero() {
		q.To = now
	}
	q.To = q.To.UTC()
	if q.From.IsZero() {
		q.From = q.To.Add(-DefaultPeriod)
	}
	q.From = q.From.UTC()
	return q
}

// Truncate returns the start of the bucket holding t (UTC; weeks start on
// Monday).
func Truncate(b dora.Bucket, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch b {
	case dora.Day:
		return day
	case dora.Month:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		wd := (int(day.Weekday()) + 6) % 7 // Monday 0
		return day.AddDate(0, 0, -wd)
	}
}

func next(b dora.Bucket, t time.Time) time.Time {
	switch b {
	case dora.Day:
		return t.AddDate(0, 0, 1)
	case dora.Month:
		return t.AddDate(0, 1, 0)
	default:
		return t.AddDate(0, 0, 7)
	}
}

// Buckets splits [from, to) at the bucket boundaries; the first and last
// are clipped to the period.
func Buckets(b dora.Bucket, from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	for s := Truncate(b, from); s.Before(to); s = next(b, s) {
		start, end := s, next(b, s)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		out = append(out, [2]time.Time{start, end})
	}
	return out
}

type pair struct{ team, service string }

type acc struct {
	deployments, failed int
	lead, restore       []time.Duration
}

// Compute answers q (normalized with Normalize) from h.
func Compute(q dora.Query, h History) *dora.Report {
	bks := Buckets(q.Bucket, q.From, q.To)
	index := func(t time.Time) int {
		if t.Before(q.From) || !t.Before(q.To) {
			return -1
		}
		return sort.Search(len(bks), func(i int) bool { return t.Before(bks[i][1]) })
	}
	allowed := func(p pair) bool {
		if q.Teams != nil && !slices.Contains(q.Teams, p.team) {
			return false
		}
		return (q.Team == "" || p.team == q.Team) && (q.Service == "" || p.service == q.Service)
	}

	// Deployments per service in time order, for attribution by time, and
	// per digest.
	deps := slices.Clone(h.Deployments)
	slices.SortStableFunc(deps, func(a, b Deployment) int {
		if c := strings.Compare(a.Service, b.Service); c != 0 {
			return c
		}
		return a.At.Compare(b.At)
	})
	byService := map[string][]int{}
	byDigest := map[string][]int{}
	for i, d := range deps {
		byService[d.Service] = append(byService[d.Service], i)
		if d.Digest != "" {
			byDigest[d.Digest] = append(byDigest[d.Digest], i)
		}
	}
	failed := make([]bool, len(deps))

	accs := map[pair][]acc{}
	get := func(p pair) []acc {
		a, ok := accs[p]
		if !ok {
			a = make([]acc, len(bks))
			accs[p] = a
		}
		return a
	}
	// Every team and service seen has rows, even with nothing in the period.
	for _, d := range deps {
		if p := (pair{d.Team, d.Service}); allowed(p) {
			get(p)
		}
	}

	for _, in := range h.Incidents {
		if in.Detected.IsZero() {
			continue // resolved but never seen detected: nothing to measure from
		}
		at := attribute(deps, byService, byDigest, in)
		if at >= 0 {
			failed[at] = true
		}
		p := pair{in.Team, in.Service}
		if at >= 0 {
			if p.team == "" {
				p.team = deps[at].Team
			}
			if p.service == "" {
				p.service = deps[at].Service
			}
		}
		if p.team == "" {
			if s := byService[p.service]; len(s) > 0 {
				p.team = deps[s[len(s)-1]].Team
			}
		}
		if !allowed(p) {
			continue
		}
		a := get(p)
		if in.Resolved.IsZero() {
			continue
		}
		if i := index(in.Resolved); i >= 0 {
			d := in.Resolved.Sub(in.Detected)
			if d < 0 {
				d = 0
			}
			a[i].restore = append(a[i].restore, d)
		}
	}
	for k, d := range deps {
		p := pair{d.Team, d.Service}
		if !allowed(p) {
			continue
		}
		if i := index(d.At); i >= 0 {
			a := get(p)
			a[i].deployments++
			if failed[k] {
				a[i].failed++
			}
		}
	}
	for _, c := range h.Changes {
		p := pair{c.Team, c.Service}
		if !allowed(p) {
			continue
		}
		if i := index(c.Deployed); i >= 0 {
			d := c.Deployed.Sub(c.Committed)
			if d < 0 {
				d = 0 // a commit clock ahead of the deployer's
			}
			a := get(p)
			a[i].lead = append(a[i].lead, d)
		}
	}

	pairs := make([]pair, 0, len(accs))
	for p := range accs {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.team, b.team); c != 0 {
			return c
		}
		return strings.Compare(a.service, b.service)
	})

	r := &dora.Report{Query: q, Rows: make([]dora.Row, 0, len(pairs)*len(bks)), Totals: make([]dora.Total, 0, len(pairs))}
	for _, p := range pairs {
		a := accs[p]
		var tot acc
		for i, b := range bks {
			r.Rows = append(r.Rows, dora.Row{Team: p.team, Service: p.service, Start: b[0], End: b[1], Keys: keysOf(a[i], b[1].Sub(b[0]))})
			tot.deployments += a[i].deployments
			tot.failed += a[i].failed
			tot.lead = append(tot.lead, a[i].lead...)
			tot.restore = append(tot.restore, a[i].restore...)
		}
		k := keysOf(tot, q.To.Sub(q.From))
		r.Totals = append(r.Totals, dora.Total{Team: p.team, Service: p.service, Keys: k, Bands: rate(k, frequency(deps, byService[p.service], p.team, q))})
	}
	return r
}

// attribute returns the index in deps of the deployment in is attributed
// to, or -1.
func attribute(deps []Deployment, byService, byDigest map[string][]int, in Incident) int {
	if in.Digest != "" {
		var cands []int
		for _, k := range byDigest[in.Digest] {
			if in.Service == "" || deps[k].Service == in.Service {
				cands = append(cands, k)
			}
		}
		if len(cands) == 0 {
			return -1
		}
		slices.SortFunc(cands, func(a, b int) int { return deps[a].At.Compare(deps[b].At) })
		best := cands[0]
		for _, k := range cands {
			if deps[k].At.After(in.Detected) {
				break
			}
			best = k
		}
		return best
	}
	s := byService[in.Service]
	// The live deployment: the last one at or before detection.
	n := sort.Search(len(s), func(i int) bool { return deps[s[i]].At.After(in.Detected) })
	if n == 0 {
		return -1
	}
	return s[n-1]
}

func keysOf(a acc, period time.Duration) dora.Keys {
	k := dora.Keys{Deployments: a.deployments, FailedDeployments: a.failed, LeadTime: stat(a.lead), TimeToRestore: stat(a.restore)}
	if days := period.Hours() / 24; days > 0 {
		k.DeploymentsPerDay = float64(a.deployments) / days
	}
	if a.deployments > 0 {
		k.ChangeFailureRate = float64(a.failed) / float64(a.deployments)
	}
	return k
}

func stat(ds []time.Duration) dora.Stat {
	if len(ds) == 0 {
		return dora.Stat{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(n)))-1]
	return dora.Stat{Count: n, Median: med, P90: p90}
}
