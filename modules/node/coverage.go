package node

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Coverage is the total of an istanbul coverage-summary.json, the file
// Jest, Vitest and c8 write with the json-summary reporter.
type Coverage struct {
	Statements, Branches, Functions, Lines Metric
}

// Metric is one kind of coverage.
type Metric struct {
	Total, Covered int64
}

// Percent is the covered share; 100 when there is nothing to cover, as
// istanbul reports it.
func (m Metric) Percent() float64 {
	if m.Total == 0 {
		return 100
	}
	return float64(m.Covered) * 100 / float64(m.Total)
}

// ParseCoverageSummary reads the "total" entry of a coverage summary.
// The counts are used, not the rounded "pct" (which is the string
// "Unknown" when nothing was instrumented).
func ParseCoverageSummary(b []byte) (Coverage, error) {
	var doc struct {
		Total *struct {
			Lines, Statements, Functions, Branches *rawMetric
		} `json:"total"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Coverage{}, fmt.Errorf("coverage summary: %w", err)
	}
	if doc.Total == nil || doc.Total.Statements == nil || doc.Total.Lines == nil {
		return Coverage{}, fmt.Errorf("coverage summary: no total statements and lines (want istanbul's json-summary format)")
	}
	var c Coverage
	for _, m := range []struct {
		name string
		raw  *rawMetric
		dst  *Metric
	}{{"statements", doc.Total.Statements, &c.Statements}, {"lines", doc.Total.Lines, &c.Lines},
		{"functions", doc.Total.Functions, &c.Functions}, {"branches", doc.Total.Branches, &c.Branches}} {
		if m.raw == nil {
			continue
		}
		v, err := m.raw.metric()
		if err != nil {
			return Coverage{}, fmt.Errorf("coverage summary: total.%s: %w", m.name, err)
		}
		*m.dst = v
	}
	return c, nil
}

type rawMetric struct {
	Total   json.Number `json:"total"`
	Covered json.Number `json:"covered"`
}

func (r rawMetric) metric() (Metric, error) {
	total, err := count(r.Total)
	if err != nil {
		return Metric{}, fmt.Errorf("total: %w", err)
	}
	covered, err := count(r.Covered)
	if err != nil {
		return Metric{}, fmt.Errorf("covered: %w", err)
	}
	if covered > total {
		return Metric{}, fmt.Errorf("%d covered of %d", covered, total)
	}
	return Metric{Total: total, Covered: covered}, nil
}

func count(n json.Number) (int64, error) {
	if n == "" {
		return 0, fmt.Errorf("missing")
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		if ferr != nil || f != math.Trunc(f) || f > math.MaxInt64/2 {
			return 0, fmt.Errorf("%q is not a count", n)
		}
		v = int64(f)
	}
	if v < 0 {
		return 0, fmt.Errorf("%d is negative", v)
	}
	return v, nil
}
