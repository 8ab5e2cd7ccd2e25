package api

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pavedhq/paved/dora"
)

// Params are the query parameters ParseQuery reads.
var Params = []string{"team", "service", "environment", "from", "to", "bucket"}

// Defaults for what a query leaves out.
const (
	DefaultPeriod = 90 * 24 * time.Hour // from = to - DefaultPeriod
	MaxPeriod     = 5 * 366 * 24 * time.Hour
	// MaxDaily bounds a query by day, so one request cannot ask for
	// hundreds of thousands of rows.
	MaxDaily = 3 * 366 * 24 * time.Hour
	maxName  = 200
)

// ParamError is a bad query parameter, named.
type ParamError struct {
	Param string
	Msg   string
}

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %s: %s", e.Param, e.Msg) }

// ParseQuery reads a dora.Query from URL parameters: team, service,
// environment (default production), from and to (RFC 3339 or a date,
// YYYY-MM-DD, UTC; default the DefaultPeriod ending now), bucket (day, week
// or month; default week). An unknown or repeated parameter, a bad time, a
// period that is empty, reversed or longer than MaxPeriod is a *ParamError.
func ParseQuery(v url.Values, now time.Time) (dora.Query, error) {
	q := dora.Query{Environment: dora.Production, Bucket: dora.Week}
	for k, vs := range v {
		if !slices.Contains(Params, k) {
			return q, &ParamError{k, "unknown parameter (want " + strings.Join(Params, ", ") + ")"}
		}
		if len(vs) > 1 {
			return q, &ParamError{k, "given more than once"}
		}
	}
	var err error
	if q.Team, err = name(v, "team"); err != nil {
		return q, err
	}
	if q.Service, err = name(v, "service"); err != nil {
		return q, err
	}
	env, err := name(v, "environment")
	if err != nil {
		return q, err
	}
	if env != "" {
		q.Environment = env
	}
	switch b := dora.Bucket(v.Get("bucket")); b {
	case "":
	case dora.Day, dora.Week, dora.Month:
		q.Bucket = b
	default:
		return q, &ParamError{"bucket", fmt.Sprintf("%q is not day, week or month", short(string(b)))}
	}
	q.To = now.UTC()
	if s := v.Get("to"); s != "" {
		if q.To, err = parseTime("to", s); err != nil {
			return q, err
		}
	}
	q.From = q.To.Add(-DefaultPeriod)
	if s := v.Get("from"); s != "" {
		if q.From, err = parseTime("from", s); err != nil {
			return q, err
		}
	}
	switch {
	case !q.From.Before(q.To):
		return q, &ParamError{"from", fmt.Sprintf("%s is not before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))}
	case q.To.Sub(q.From) > MaxPeriod:
		return q, &ParamError{"from", "the period is longer than 5 years"}
	case q.Bucket == dora.Day && q.To.Sub(q.From) > MaxDaily:
		return q, &ParamError{"bucket", "day over more than 3 years; use week or month"}
	}
	return q, nil
}

// Values is the inverse of ParseQuery, for clients.
func Values(q dora.Query) url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("team", q.Team)
	set("service", q.Service)
	set("environment", q.Environment)
	set("bucket", string(q.Bucket))
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	return v
}

func name(v url.Values, k string) (string, error) {
	s := v.Get(k)
	switch {
	case len(s) > maxName:
		return "", &ParamError{k, fmt.Sprintf("longer than %d bytes", maxName)}
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", &ParamError{k, "holds a control character"}
	}
	return s, nil
}

func parseTime(k, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.Year() < 1970 || t.Year() > 9999 {
			return t, &ParamError{k, "year out of range"}
		}
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if t.Year() < 1970 {
			return t, &ParamError{k, "year out of range"}
		}
		return t, nil
	}
	return time.Time{}, &ParamError{k, fmt.Sprintf("%q is not an RFC 3339 time (2026-01-02T15:04:05Z) or a date (2026-01-02)", short(s))}
}

// short keeps an echoed value small.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
