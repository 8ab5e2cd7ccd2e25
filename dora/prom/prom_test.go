package prom

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pavedhq/paved/dora"
)

func report(team, service string) *dora.Report {
	return &dora.Report{
		Query: dora.Query{Environment: dora.Production},
		Totals: []dora.Total{{
			Team: team, Service: service,
			Keys: dora.Keys{
				Deployments: 12, DeploymentsPerDay: 0.4,
				LeadTime:          dora.Stat{Count: 30, Median: 5 * time.Hour, P90: 30 * time.Hour},
				FailedDeployments: 1, ChangeFailureRate: 1.0 / 12,
			},
			Bands: dora.Bands{DeploymentFrequency: dora.High, LeadTime: dora.Elite, ChangeFailureRate: dora.Medium},
		}},
	}
}

// A key with nothing counted (no incident restored) has no quantiles,
// rather than a zero that reads as "instant".
func TestWriteLeavesOutEmptyStats(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, report("a", "s"), DefaultWindow); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "paved_dora_time_to_restore_seconds{") {
		t.Errorf("time to restore quantiles with no incident:\n%s", out)
	}
	for _, line := range []string{
		`paved_dora_lead_time_seconds{team="a",service="s",environment="production",quantile="0.5"} 18000`,
		`paved_dora_incidents_restored{team="a",service="s",environment="production"} 0`,
		`paved_dora_band{team="a",service="s",environment="production",key="lead_time",band="elite"} 1`,
		`paved_dora_window_seconds 2.592e+06`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("missing %s", line)
		}
	}
	if strings.Contains(out, `key="time_to_restore"`) {
		t.Error("a band for a key with no band")
	}
}

// FuzzWrite: whatever names the events carried, the exposition parses and
// gives the names back (as valid UTF-8).
func FuzzWrite(f *testing.F) {
	f.Add("payments", "api")
	f.Add(`a"b\c`, "line\nbreak")
	f.Add("\xff\xfe", "}{=,")
	f.Fuzz(func(t *testing.T, team, service string) {
		var b bytes.Buffer
		if err := Write(&b, report(team, service), time.Hour); err != nil {
			t.Fatal(err)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(&b)
		if err != nil {
			t.Fatalf("team %q service %q: %v\n%s", team, service, err, b.String())
		}
		m := fams["paved_dora_deployments"].GetMetric()
		if len(m) != 1 {
			t.Fatalf("%d deployments samples", len(m))
		}
		for _, l := range m[0].GetLabel() {
			want := map[string]string{"team": team, "service": service, "environment": "production"}[l.GetName()]
			if l.GetValue() != strings.ToValidUTF8(want, "\uFFFD") {
				t.Errorf("label %s = %q, want %q", l.GetName(), l.GetValue(), want)
			}
		}
	})
}
