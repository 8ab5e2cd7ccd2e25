package keys

import (
	"testing"
	"time"

	"github.com/pavedhq/paved/dora"
)

var t0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC) // a Monday

func h(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

// TestFailureRateNeverAboveOne: three incidents on one deployment make it
// one failed deployment, where incidents ÷ deployments would say 300%.
func TestFailureRateNeverAboveOne(t *testing.T) {
	hist := History{
		Deployments: []Deployment{{Team: "a", Service: "s", Digest: "sha256:1", At: h(10)}},
		Incidents: []Incident{
			{ID: "1", Service: "s", Detected: h(11)},
			{ID: "2", Service: "s", Digest: "sha256:1", Detected: h(12)},
			{ID: "3", Team: "a", Service: "s", Detected: h(13)},
		},
	}
	r := Compute(Normalize(dora.Query{From: t0, To: t0.AddDate(0, 0, 7)}, t0), hist)
	if k := r.Totals[0].Keys; k.FailedDeployments != 1 || k.ChangeFailureRate != 1 {
		t.Errorf("failed %d, rate %v; want 1 and 1", k.FailedDeployments, k.ChangeFailureRate)
	}
}

// TestAttribution: by digest first, by time only when none is named, and
// not at all when the digest named was never deployed or nothing was live.
func TestAttribution(t *testing.T) {
	deps := []Deployment{
		{Team: "a", Service: "s", Digest: "sha256:1", At: h(10)},
		{Team: "a", Service: "s", Digest: "sha256:2", At: h(20)},
		{Team: "a", Service: "s", Digest: "sha256:1", At: h(30)}, // rollback to 1
	}
	for _, tc := range []struct {
		name string
		in   Incident
		want int
	}{
		{"digest of an earlier deployment", Incident{Service: "s", Digest: "sha256:1", Detected: h(25)}, 0},
		{"digest redeployed: the latest before detection", Incident{Service: "s", Digest: "sha256:1", Detected: h(31)}, 2},
		{"by time", Incident{Service: "s", Detected: h(25)}, 1},
		{"digest never deployed", Incident{Service: "s", Digest: "sha256:9", Detected: h(25)}, -1},
		{"before any deployment", Incident{Service: "s", Detected: h(5)}, -1},
		{"digest only, no service", Incident{Digest: "sha256:2", Detected: h(40)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byService := map[string][]int{"s": {0, 1, 2}}
			byDigest := map[string][]int{"sha256:1": {0, 2}, "sha256:2": {1}}
			if got := attribute(deps, byService, byDigest, tc.in); got != tc.want {
				t.Errorf("attributed to %d, want %d", got, tc.want)
			}
		})
	}
}

// TestBandsFromData: the bands come from bands.json, which names its report.
func TestBandsFromData(t *testing.T) {
	if Thresholds.Report == "" || Thresholds.Table == "" {
		t.Fatal("bands.json does not name its report and table")
	}
	for _, tc := range []struct {
		k    dora.Keys
		want dora.Bands
	}{
		{dora.Keys{Deployments: 1, LeadTime: dora.Stat{Count: 1, Median: 23 * time.Hour}, TimeToRestore: dora.Stat{Count: 1, Median: 59 * time.Minute}},
			dora.Bands{DeploymentFrequency: dora.Low, LeadTime: dora.Elite, ChangeFailureRate: dora.Elite, TimeToRestore: dora.Elite}},
		{dora.Keys{Deployments: 10, ChangeFailureRate: 0.16, LeadTime: dora.Stat{Count: 1, Median: 25 * time.Hour}, TimeToRestore: dora.Stat{Count: 1, Median: 2 * time.Hour}},
			dora.Bands{DeploymentFrequency: dora.Low, LeadTime: dora.High, ChangeFailureRate: dora.Low, TimeToRestore: dora.High}},
		{dora.Keys{LeadTime: dora.Stat{Count: 1, Median: 8 * 24 * time.Hour}, TimeToRestore: dora.Stat{Count: 1, Median: 2 * 24 * time.Hour}},
			dora.Bands{DeploymentFrequency: dora.Low, LeadTime: dora.Medium, TimeToRestore: dora.Low}},
	} {
		if got := rate(tc.k, map[string]float64{}); got != tc.want {
			t.Errorf("rate(%+v) = %+v, want %+v", tc.k, got, tc.want)
		}
	}
}
