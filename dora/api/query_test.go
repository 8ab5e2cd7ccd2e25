package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora"
)

var now = time.Date(2026, 3, 4, 12, 30, 0, 0, time.UTC)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  dora.Query
	}{
		{"", dora.Query{Environment: "production", Bucket: dora.Week, From: now.Add(-DefaultPeriod), To: now}},
		{"team=payments&service=api&environment=staging&bucket=day&from=2026-01-01&to=2026-02-01T06:00:00%2B02:00",
			dora.Query{Team: "payments", Service: "api", Environment: "staging", Bucket: dora.Day,
				From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 4, 0, 0, 0, time.UTC)}},
		{"to=2026-02-01&bucket=month", dora.Query{Environment: "production", Bucket: dora.Month,
			From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC).Add(-DefaultPeriod), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}},
	} {
		v, _ := url.ParseQuery(tc.query)
		got, err := ParseQuery(v, now)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, d)
		}
		// Values is its inverse.
		back, err := ParseQuery(Values(got), now)
		if err != nil || !cmp.Equal(back, got) {
			t.Errorf("%q: Values does not round-trip: %v %v", tc.query, back, err)
		}
	}
}

func TestParseQueryErrors(t *testing.T) {
	for _, tc := range []struct{ query, param, says string }{
		{"bucket=hour", "bucket", `"hour" is not day, week or month`},
		{"from=01/02/2026", "from", "is not an RFC 3339 time"},
		{"to=2026-02-30", "to", "is not an RFC 3339 time"},
		{"from=2026-02-01&to=2026-02-01", "from", "is not before to"},
		{"from=2020-01-01&to=2026-01-01", "from", "longer than 5 years"},
		{"from=1969-12-31", "from", "year out of range"},
		{"from=2020-01-01&to=2024-01-01&bucket=day", "bucket", "more than 3 years"},
		{"tema=a", "tema", "unknown parameter"},
		{"bucket=day&bucket=week", "bucket", "more than once"},
		{"team=" + strings.Repeat("x", 201), "team", "longer than 200"},
		{"service=a%0Ab", "service", "control character"},
	} {
		v, _ := url.ParseQuery(tc.query)
		_, err := ParseQuery(v, now)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%q: error %v, want parameter %s saying %q", tc.query, err, tc.param, tc.says)
		}
	}
}

// FuzzParseQuery: any query string gives a query or a *ParamError, and an
// accepted query is a non-empty period no longer than MaxPeriod.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "team=a&from=2026-01-01&to=2026-02-01&bucket=day", "from=2026-01-01T00:00:00.5Z", "to=9999-12-31T23:59:59Z&from=9999-01-01", "bucket=%ff", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, err := ParseQuery(v, now)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("%q: error %v is not a *ParamError", s, err)
			}
			return
		}
		if !q.From.Before(q.To) || q.To.Sub(q.From) > MaxPeriod || q.Bucket == dora.Day && q.To.Sub(q.From) > MaxDaily {
			t.Fatalf("%q: accepted the period %v to %v", s, q.From, q.To)
		}
		switch q.Bucket {
		case dora.Day, dora.Week, dora.Month:
		default:
			t.Fatalf("%q: accepted bucket %q", s, q.Bucket)
		}
	})
}

func TestNewClientRefusesUnsafeURLs(t *testing.T) {
	for _, tc := range []struct{ url, says string }{
		{"http://dora.example.com", "the token would travel in clear"},
		{"https://user:secret@dora.example.com", "credentials in the URL"},
		{"ftp://dora.example.com", "want http(s)"},
		{"dora.example.com", "want http(s)"},
	} {
		_, err := NewClient(tc.url, "t0ken")
		if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: %v, want an error saying %q (and no password)", tc.url, err, tc.says)
		}
	}
	for _, ok := range []string{"https://dora.example.com/", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"} {
		if _, err := NewClient(ok, "t0ken"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// The README's example answer has exactly the fields the API writes.
func TestREADMEAnswer(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```json\n{\n  \"query\"")
	if !ok {
		t.Fatal("README.md has no example answer of GET /v1/metrics")
	}
	block, _, _ := strings.Cut(rest, "```")
	dec := json.NewDecoder(strings.NewReader("{\n  \"query\"" + block))
	dec.DisallowUnknownFields()
	var d decoded
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("README's answer: %v", err)
	}
	r := d.report()
	// And what the server writes for it has the same fields again.
	out, err := json.Marshal(NewResponse(r))
	if err != nil {
		t.Fatal(err)
	}
	dec = json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	var again decoded
	if err := dec.Decode(&again); err != nil || !cmp.Equal(again.report(), r) {
		t.Errorf("the server's encoding of it does not read back: %v", err)
	}
	if len(r.Rows) != 1 || r.Rows[0].LeadTime.Median != 4*time.Hour+24*time.Minute || r.Totals[0].Bands.ChangeFailureRate != dora.High {
		t.Errorf("read %+v", r)
	}
}
