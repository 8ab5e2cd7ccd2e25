package keys

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pavedhq/paved/dora"
)

//go:embed bands.json
var bandsJSON []byte

// rule is one line of a key's table in bands.json.
type rule struct {
	Band    dora.Band `json:"band"`
	Measure string    `json:"measure"`
	AtLeast *float64  `json:"atLeast"`
	AtMost  *float64  `json:"atMost"`
	Below   *float64  `json:"below"`
}

func (r rule) meets(v float64) bool {
	return (r.AtLeast == nil || v >= *r.AtLeast) && (r.AtMost == nil || v <= *r.AtMost) && (r.Below == nil || v < *r.Below)
}

// Table is the performance bands of one published report.
type Table struct {
	Report              string   `json:"report"`
	Table               string   `json:"table"`
	Notes               []string `json:"notes"`
	DeploymentFrequency []rule   `json:"deploymentFrequency"`
	LeadTime            []rule   `json:"leadTime"`
	ChangeFailureRate   []rule   `json:"changeFailureRate"`
	TimeToRestore       []rule   `json:"timeToRestore"`
}

// Thresholds are the bands in use, read from the embedded bands.json.
var Thresholds = mustTable(bandsJSON)

func mustTable(b []byte) Table {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		panic(fmt.Sprintf("keys: bands.json: %v", err))
	}
	return t
}

func pick(rules []rule, measures map[string]float64) dora.Band {
	for _, r := range rules {
		if r.Measure == "" {
			return r.Band
		}
		if v, ok := measures[r.Measure]; ok && r.meets(v) {
			return r.Band
		}
	}
	return dora.Low
}

// rate gives a total its bands. A key with nothing to measure (no change
// deployed, no deployment, no incident restored) has no band ("").
func rate(k dora.Keys, freq map[string]float64) dora.Bands {
	var b dora.Bands
	b.DeploymentFrequency = pick(Thresholds.DeploymentFrequency, freq)
	if k.LeadTime.Count > 0 {
		b.LeadTime = pick(Thresholds.LeadTime, map[string]float64{"medianHours": k.LeadTime.Median.Hours()})
	}
	if k.Deployments > 0 {
		b.ChangeFailureRate = pick(Thresholds.ChangeFailureRate, map[string]float64{"rate": k.ChangeFailureRate})
	}
	if k.TimeToRestore.Count > 0 {
		b.TimeToRestore = pick(Thresholds.TimeToRestore, map[string]float64{"medianHours": k.TimeToRestore.Median.Hours()})
	}
	return b
}

// frequency computes Four Keys' deployment-frequency measures for one team
// and service over the query's weeks and months (those overlapping it).
func frequency(deps []Deployment, idx []int, team string, q dora.Query) map[string]float64 {
	weeks := Buckets(dora.Week, q.From, q.To)
	months := Buckets(dora.Month, q.From, q.To)
	days := make([]map[time.Time]bool, len(weeks))
	monthHad := make([]float64, len(months))
	for _, k := range idx {
		d := deps[k]
		if d.Team != team || d.At.Before(q.From) || !d.At.Before(q.To) {
			continue
		}
		for i, w := range weeks {
			if d.At.Before(w[1]) {
				if days[i] == nil {
					days[i] = map[time.Time]bool{}
				}
				days[i][Truncate(dora.Day, d.At)] = true
				break
			}
		}
		for i, m := range months {
			if d.At.Before(m[1]) {
				monthHad[i] = 1
				break
			}
		}
	}
	perWeek := make([]float64, len(weeks))
	weekHad := make([]float64, len(weeks))
	for i := range weeks {
		perWeek[i] = float64(len(days[i]))
		if len(days[i]) > 0 {
			weekHad[i] = 1
		}
	}
	return map[string]float64{
		"medianDeployDaysPerWeek":  median(perWeek),
		"medianWeekHadDeployment":  median(weekHad),
		"medianMonthHadDeployment": median(monthHad),
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
