package keys

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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

// byServiceTime orders deployments as Compute needs them; a history built
// in this order (SortDeployments) saves Compute a copy and a sort.
func byServiceTime(a, b Deployment) int {
	if c := strings.Compare(a.Service, b.Service); c != 0 {
		return c
	}
	return a.At.Compare(b.At)
}

// SortDeployments puts h's deployments in the order Compute reads them.
func SortDeployments(h *History) { slices.SortStableFunc(h.Deployments, byServiceTime) }

type pair struct{ team, service string }

type acc struct {
	deployments, failed int
	nlead               int
	lead, restore       []time.Duration
}

// Compute answers q (normalized with Normalize) from h.
func Compute(q dora.Query, h History) *dora.Report {
	bks := Buckets(q.Bucket, q.From, q.To)
	first := Truncate(q.Bucket, q.From)
	var step time.Duration // fixed-length buckets: the index is arithmetic
	switch q.Bucket {
	case dora.Day:
		step = 24 * time.Hour
	case dora.Week:
		step = 7 * 24 * time.Hour
	}
	index := func(t time.Time) int {
		if t.Before(q.From) || !t.Before(q.To) {
			return -1
		}
		if step > 0 {
			return int(t.Sub(first) / step)
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
	deps := h.Deployments
	if !slices.IsSortedFunc(deps, byServiceTime) {
		deps = slices.Clone(deps)
		slices.SortStableFunc(deps, byServiceTime)
	}
	byService := make(map[string][]int, 512)
	byDigest := make(map[string][]int, len(deps))
	for i, d := range deps {
		byService[d.Service] = append(byService[d.Service], i)
		if d.Digest != "" {
			byDigest[d.Digest] = append(byDigest[d.Digest], i)
		}
	}
	failed := make([]bool, len(deps))

	accs := map[pair][]acc{}
	var lastP pair
	var lastA []acc
	get := func(p pair) []acc {
		if lastA != nil && p == lastP {
			return lastA // histories come grouped by team and service
		}
		a, ok := accs[p]
		defer func() { lastP, lastA = p, a }()
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
	// Lead times in two passes: count per team, service and bucket, then
	// fill one slab, instead of growing hundreds of thousands of appends.
	type slot struct {
		a []acc
		i int
	}
	slots := make([]slot, len(h.Changes))
	n := 0
	for k, c := range h.Changes {
		slots[k].i = -1
		p := pair{c.Team, c.Service}
		if !allowed(p) {
			continue
		}
		if i := index(c.Deployed); i >= 0 {
			a := get(p)
			a[i].nlead++
			slots[k] = slot{a, i}
			n++
		}
	}
	slab := make([]time.Duration, n)
	for _, a := range accs {
		for i := range a {
			a[i].lead, slab = slab[:0:a[i].nlead], slab[a[i].nlead:]
		}
	}
	for k, c := range h.Changes {
		if sl := slots[k]; sl.i >= 0 {
			d := c.Deployed.Sub(c.Committed)
			if d < 0 {
				d = 0 // a commit clock ahead of the deployer's
			}
			sl.a[sl.i].lead = append(sl.a[sl.i].lead, d)
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

	// Each team and service's rows and total are independent: computed on
	// every processor, each written in its place.
	r := &dora.Report{Query: q, Rows: make([]dora.Row, len(pairs)*len(bks)), Totals: make([]dora.Total, len(pairs))}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(pairs))) {
		wg.Go(func() {
			for {
				j := int(next.Add(1)) - 1
				if j >= len(pairs) {
					return
				}
				p := pairs[j]
				a := accs[p]
				var tot acc
				n := 0
				for i := range bks {
					n += len(a[i].lead)
				}
				tot.lead = make([]time.Duration, 0, n)
				for i, b := range bks {
					r.Rows[j*len(bks)+i] = dora.Row{Team: p.team, Service: p.service, Start: b[0], End: b[1], Keys: keysOf(a[i], b[1].Sub(b[0]))}
					tot.deployments += a[i].deployments
					tot.failed += a[i].failed
					tot.lead = append(tot.lead, a[i].lead...)
					tot.restore = append(tot.restore, a[i].restore...)
				}
				k := keysOf(tot, q.To.Sub(q.From))
				r.Totals[j] = dora.Total{Team: p.team, Service: p.service, Keys: k, Bands: rate(k, frequency(deps, byService[p.service], p.team, q))}
			}
		})
	}
	wg.Wait()
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

// stat sorts ds in place.
func stat(ds []time.Duration) dora.Stat {
	if len(ds) == 0 {
		return dora.Stat{}
	}
	s := ds
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(n)))-1]
	return dora.Stat{Count: n, Median: med, P90: p90}
}
