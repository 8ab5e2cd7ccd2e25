package keys

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pavedhq/paved/dora"
)

// BenchmarkCompute: the keys for 150 teams (315 services) over a year,
// weekly, from a history the size bench/dora generates (34k deployments,
// 250k commits, 2.8k incidents), without a database.
func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	var h History
	for s := range 315 {
		team, svc := fmt.Sprintf("team-%03d", s/2), fmt.Sprintf("svc-%d", s)
		for range 107 {
			at := start.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			h.Deployments = append(h.Deployments, Deployment{Team: team, Service: svc, Digest: fmt.Sprint(rng.Int()), At: at})
			for range 7 {
				h.Changes = append(h.Changes, Change{Team: team, Service: svc, Committed: at.Add(-time.Duration(rng.Int64N(int64(72 * time.Hour)))), Deployed: at})
			}
			if rng.IntN(12) == 0 {
				h.Incidents = append(h.Incidents, Incident{ID: fmt.Sprint(rng.Int()), Team: team, Service: svc, Detected: at.Add(time.Hour), Resolved: at.Add(3 * time.Hour)})
			}
		}
	}
	q := Normalize(dora.Query{From: start, To: start.AddDate(1, 0, 0)}, start)
	b.ResetTimer()
	for range b.N {
		Compute(q, h)
	}
}
