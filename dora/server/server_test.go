package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/api"
	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/server"
	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/dora/synth"
	"github.com/pavedhq/paved/internal/testtools/pgtest"
)

// The history: two teams (team-001, team-002) over eight weeks.
var (
	start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	end   = start.AddDate(0, 0, 56)
	now   = end.Add(time.Hour)
)

const tokens = `tokens:
  - name: team-1-reader
    sha256: %s
    teams: [team-001]
    rights: [read]
  - name: team-2-reader
    sha256: %s
    teams: [team-002]
    rights: [read]
  - name: platform
    sha256: %s
    teams: ["*"]
    rights: [read]
  - name: ci
    sha256: %s
    teams: ["*"]
    rights: [ingest]
    rate: 1000
    burst: 1000
  - name: team-1-ci
    sha256: %s
    teams: [team-001]
    rights: [ingest]
  - name: slow
    sha256: %s
    teams: [team-001]
    rights: [read]
    rate: 0.01
    burst: 2
`

type env struct {
	url, dsn string
	store    *store.Store
}

// events counts the events stored, read from the database itself.
func (e *env) events(t *testing.T) int {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(e.dsn, "postgres://") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// start runs the collector as paved dora serve composes it — the real
// store (SQLite), its ingest handler and these surfaces — and posts a
// synthetic history through POST /v1/events with the ingest token.
func newEnv(t *testing.T, b ...backend) *env {
	t.Helper()
	ctx := context.Background()
	dsn := filepath.Join(t.TempDir(), "dora.db")
	if len(b) > 0 {
		dsn = b[0].dsn(t)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	set, err := auth.Parse([]byte(fmt.Sprintf(tokens, auth.Hash("tok-1"), auth.Hash("tok-2"), auth.Hash("tok-all"), auth.Hash("tok-ci"), auth.Hash("tok-1-ci"), auth.Hash("tok-slow"))))
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(s, ingest.Handler(s, ingest.Options{}), set, server.Options{
		Now: func() time.Time { return now },
		Log: func(r *http.Request, err error) { t.Errorf("%s %s: %v", r.Method, r.URL, err) },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{url: srv.URL, dsn: dsn, store: s}

	hist := synth.Generate(synth.Config{Seed: 9, Teams: 2, ServicesPerTeam: 2, Start: start, Days: 56})
	for i := 0; i < len(hist.Events); i += 500 {
		batch, err := json.Marshal(hist.Events[i:min(i+500, len(hist.Events))])
		if err != nil {
			t.Fatal(err)
		}
		resp := e.do(t, "POST", "/v1/events", "tok-ci", batch)
		if resp.code != 200 {
			t.Fatalf("ingest: %d %s", resp.code, resp.body)
		}
	}
	return e
}

type response struct {
	code   int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, method, path, token string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", ingest.Batch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (e *env) get(t *testing.T, path, token string) response { return e.do(t, "GET", path, token, nil) }

// errorOf is the {"error": ...} of a refusal.
// postgres is the server the PostgreSQL cases share (a database each);
// pgErr says why there is none.
var (
	postgres *pgtest.Server
	pgErr    error
	dbSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	postgres, pgErr = pgtest.Launch(pgtest.Options{NoFsync: true})
	code := m.Run()
	if postgres != nil {
		if err := postgres.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping PostgreSQL:", err)
		}
	}
	os.Exit(code)
}

// backend is a database the surfaces are tested on: the same tests for
// SQLite and PostgreSQL, as the store's own.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range []backend{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "dora.db") }},
		{"postgres", func(t *testing.T) string {
			if postgres == nil {
				pgtest.Unavailable(t, pgErr)
			}
			name := fmt.Sprintf("s%d", dbSeq.Add(1))
			admin, err := sql.Open("pgx", postgres.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
				t.Fatal(err)
			}
			return strings.Replace(postgres.DSN, "/postgres?", "/"+name+"?", 1)
		}},
	} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

func errorOf(t *testing.T, r response) string {
	t.Helper()
	var v struct{ Error string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.Error == "" {
		t.Fatalf("%d body %q is not {\"error\": ...}", r.code, r.body)
	}
	return v.Error
}

func teamsIn(t *testing.T, body string) map[string]int {
	t.Helper()
	var v struct {
		Rows   []struct{ Team string }
		Totals []struct{ Team string }
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	seen := map[string]int{}
	for _, r := range v.Rows {
		seen[r.Team]++
	}
	for _, r := range v.Totals {
		seen[r.Team]++
	}
	return seen
}

const period = "from=2026-01-05&to=2026-03-02&bucket=week"

// A token for team-001 never sees team-002: asking for it is 403, and every
// list (the API's rows and teams, the Prometheus gauges, the dashboard)
// leaves it out, while the platform token sees both.
func TestTokenSeesOnlyItsTeams(t *testing.T) { forEach(t, testTokenSeesOnlyItsTeams) }

func testTokenSeesOnlyItsTeams(t *testing.T, b backend) {
	e := newEnv(t, b)

	all := e.get(t, "/v1/metrics?"+period, "tok-all")
	if all.code != 200 {
		t.Fatalf("platform token: %d %s", all.code, all.body)
	}
	if seen := teamsIn(t, all.body); seen["team-001"] == 0 || seen["team-002"] == 0 {
		t.Fatalf("the platform token sees %v, want both teams", seen)
	}

	for _, tc := range []struct{ token, mine, other string }{{"tok-1", "team-001", "team-002"}, {"tok-2", "team-002", "team-001"}} {
		t.Run(tc.mine, func(t *testing.T) {
			r := e.get(t, "/v1/metrics?"+period, tc.token)
			if r.code != 200 {
				t.Fatalf("%d %s", r.code, r.body)
			}
			seen := teamsIn(t, r.body)
			if seen[tc.mine] == 0 || len(seen) != 1 {
				t.Errorf("/v1/metrics: sees %v, want only %s", seen, tc.mine)
			}
			// Explicitly: 403, naming the team, and no figures.
			r = e.get(t, "/v1/metrics?team="+tc.other+"&"+period, tc.token)
			if r.code != http.StatusForbidden {
				t.Fatalf("asking for %s: %d %s, want 403", tc.other, r.code, r.body)
			}
			if msg := errorOf(t, r); !strings.Contains(msg, "may not see team "+tc.other) {
				t.Errorf("403 says %q", msg)
			}
			r = e.get(t, "/v1/teams", tc.token)
			var teams struct{ Teams []dora.Team }
			if err := json.Unmarshal([]byte(r.body), &teams); err != nil || r.code != 200 {
				t.Fatalf("/v1/teams: %d %s", r.code, r.body)
			}
			if len(teams.Teams) != 1 || teams.Teams[0].Name != tc.mine || len(teams.Teams[0].Services) == 0 {
				t.Errorf("/v1/teams: %+v, want only %s with its services", teams.Teams, tc.mine)
			}
			r = e.get(t, "/metrics", tc.token)
			if r.code != 200 || !strings.Contains(r.body, `team="`+tc.mine+`"`) || strings.Contains(r.body, tc.other) {
				t.Errorf("/metrics shows another team or not its own: %d\n%s", r.code, r.body)
			}
			r = e.get(t, "/?"+period, tc.token)
			if r.code != 200 || !strings.Contains(r.body, tc.mine) || strings.Contains(r.body, tc.other) {
				t.Errorf("dashboard shows another team or not its own: %d", r.code)
			}
			if r = e.get(t, "/?team="+tc.other, tc.token); r.code != http.StatusForbidden {
				t.Errorf("dashboard for %s: %d, want 403", tc.other, r.code)
			}
		})
	}
}

// The client reads the API back into the Report the store answers: the
// JSON loses nothing (durations in seconds round-trip to the nanosecond).
func TestClientReadsWhatTheStoreAnswers(t *testing.T) { forEach(t, testClientReadsWhatTheStoreAnswers) }

func testClientReadsWhatTheStoreAnswers(t *testing.T, b backend) {
	e := newEnv(t, b)
	q := dora.Query{Environment: dora.Production, From: start, To: end, Bucket: dora.Week}
	want, err := e.store.Metrics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Totals) == 0 || len(want.Rows) == 0 {
		t.Fatalf("the store answered nothing: %+v", want)
	}
	cl, err := api.NewClient(e.url, "tok-all")
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.Metrics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("client's report differs from the store's (-store +client):\n%s", d)
	}
	// The token limits what the client gets.
	cl1, _ := api.NewClient(e.url, "tok-1")
	got, err = cl1.Metrics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range got.Totals {
		if x.Team != "team-001" {
			t.Errorf("team-001's token got %s", x.Team)
		}
	}
	if _, err := cl1.Metrics(context.Background(), dora.Query{Team: "team-002"}); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("client asking for another team: %v", err)
	}
}

// A missing or wrong token is 401 with a clear error on every route, an
// ingest token cannot read and a read token cannot ingest (403), and the
// database is unchanged by a refused ingest.
func TestTokensRefused(t *testing.T) {
	e := newEnv(t)
	stored := e.events(t)
	before := e.get(t, "/v1/metrics?"+period, "tok-all").body
	teamsBefore := e.get(t, "/v1/teams", "tok-all").body
	// A valid history of another team, which the ci token would store.
	other := synth.Generate(synth.Config{Seed: 10, Teams: 3, ServicesPerTeam: 1, Start: start, Days: 56})
	var events []synth.Event
	for _, ev := range other.Events {
		if bytes.Contains(ev.Data, []byte(`"team-003"`)) {
			events = append(events, ev)
		}
	}
	event, err := json.Marshal(events)
	if err != nil || len(events) == 0 {
		t.Fatalf("no events for team-003: %v", err)
	}
	for _, route := range []struct{ method, path string }{{"GET", "/v1/metrics"}, {"GET", "/v1/teams"}, {"GET", "/metrics"}, {"GET", "/"}, {"POST", "/v1/events"}} {
		for _, tc := range []struct {
			name, token string
			code        int
			says        string
		}{
			{"missing", "", 401, "missing token"},
			{"wrong", "tok-wrong", 401, "token not recognised"},
		} {
			var body []byte
			if route.method == "POST" {
				body = event
			}
			r := e.do(t, route.method, route.path, tc.token, body)
			if r.code != tc.code {
				t.Errorf("%s %s, %s token: %d, want %d", route.method, route.path, tc.name, r.code, tc.code)
				continue
			}
			if msg := errorOf(t, r); !strings.Contains(msg, tc.says) {
				t.Errorf("%s %s, %s token: error %q", route.method, route.path, tc.name, msg)
			}
		}
	}
	if r := e.get(t, "/v1/metrics", "tok-ci"); r.code != 403 || !strings.Contains(errorOf(t, r), "lacks the read right") {
		t.Errorf("ingest token reading: %d %s", r.code, r.body)
	}
	if r := e.do(t, "POST", "/v1/events", "tok-1", event); r.code != 403 || !strings.Contains(errorOf(t, r), "lacks the ingest right") {
		t.Errorf("read token ingesting: %d %s", r.code, r.body)
	}
	if after := e.get(t, "/v1/metrics?"+period, "tok-all").body; after != before {
		t.Error("a refused request changed the database")
	}
	if n := e.events(t); n != stored {
		t.Errorf("refused requests left %d events stored, %d before", n, stored)
	}
	if after := e.get(t, "/v1/teams", "tok-all").body; after != teamsBefore {
		t.Errorf("a refused request changed the teams: %s", after)
	}
	// The same events with the ingest token are stored: what was refused
	// was the token, not the events.
	if r := e.do(t, "POST", "/v1/events", "tok-ci", event); r.code != 200 {
		t.Fatalf("ci token: %d %s", r.code, r.body)
	}
	if after := e.get(t, "/v1/teams", "tok-all").body; !strings.Contains(after, "team-003") {
		t.Errorf("the ingest token's events did not arrive: %s", after)
	}
}

// A team's CI token sends its team's events, and a request with another
// team's is refused whole: 403 naming the event, nothing stored.
func TestIngestTokenSendsOnlyItsTeams(t *testing.T) {
	e := newEnv(t)
	hist := synth.Generate(synth.Config{Seed: 11, Teams: 4, ServicesPerTeam: 1, Start: start, Days: 56})
	var mine, theirs []synth.Event
	for _, ev := range hist.Events {
		switch {
		case bytes.Contains(ev.Data, []byte(`"team":"team-003"`)):
			mine = append(mine, ev)
		case bytes.Contains(ev.Data, []byte(`"team":"team-004"`)):
			theirs = append(theirs, ev)
		}
	}
	if len(mine) == 0 || len(theirs) == 0 {
		t.Fatalf("%d events of team-003, %d of team-004", len(mine), len(theirs))
	}
	set, err := auth.Parse([]byte(fmt.Sprintf("tokens:\n  - {name: t3-ci, sha256: %s, teams: [team-003], rights: [ingest]}\n  - {name: all, sha256: %s, teams: ['*'], rights: [read]}\n", auth.Hash("t3"), auth.Hash("all"))))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(e.store, ingest.Handler(e.store, ingest.Options{}), set, server.Options{Now: func() time.Time { return now }}))
	defer srv.Close()
	e2 := &env{url: srv.URL, dsn: e.dsn, store: e.store}
	before, stored := e2.get(t, "/v1/teams", "all").body, e2.events(t)

	mixed, _ := json.Marshal(append(append([]synth.Event{}, mine[:3]...), theirs[0]))
	r := e2.do(t, "POST", "/v1/events", "t3", mixed)
	if r.code != http.StatusForbidden {
		t.Fatalf("another team's event: %d %s, want 403", r.code, r.body)
	}
	if msg := errorOf(t, r); !strings.Contains(msg, "event 3 ") || !strings.Contains(msg, "is for team team-004") || !strings.Contains(msg, "t3-ci") {
		t.Errorf("403 says %q", msg)
	}
	if after := e2.get(t, "/v1/teams", "all").body; after != before {
		t.Errorf("a refused request stored events: %s", after)
	}
	if n := e2.events(t); n != stored {
		t.Errorf("a refused request left %d events stored, %d before", n, stored)
	}
	// What the guard cannot read, ingest refuses with its own errors.
	if r := e2.do(t, "POST", "/v1/events", "t3", []byte(`[{"id": `)); r.code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d %s, want ingest's 400", r.code, r.body)
	}
	if r := e2.do(t, "POST", "/v1/events", "t3", bytes.Repeat([]byte(" "), ingest.DefaultMaxBytes+1)); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %s, want ingest's 413", r.code, r.body)
	}
	own, _ := json.Marshal(mine)
	if r := e2.do(t, "POST", "/v1/events", "t3", own); r.code != 200 {
		t.Fatalf("its own team's events: %d %s", r.code, r.body)
	}
	if after := e2.get(t, "/v1/teams", "all").body; !strings.Contains(after, "team-003") || strings.Contains(after, "team-004") {
		t.Errorf("teams after its own events: %s", after)
	}
}

// Over its rate, a token gets 429 with Retry-After; others are unaffected.
func TestRateLimited(t *testing.T) {
	e := newEnv(t)
	for i := range 2 {
		if r := e.get(t, "/v1/teams", "tok-slow"); r.code != 200 {
			t.Fatalf("request %d: %d %s", i, r.code, r.body)
		}
	}
	r := e.get(t, "/v1/metrics", "tok-slow")
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("third request: %d, want 429", r.code)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 100 {
		t.Errorf("Retry-After %q, want 1..100 seconds", r.header.Get("Retry-After"))
	}
	if msg := errorOf(t, r); !strings.Contains(msg, "slow is over its rate limit") {
		t.Errorf("429 says %q", msg)
	}
	if r := e.get(t, "/v1/teams", "tok-1"); r.code != 200 {
		t.Errorf("another token: %d", r.code)
	}
}

// Bad parameters are 400 naming the parameter.
func TestBadParams(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ query, param string }{
		{"bucket=year", "bucket"},
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"from=2026-03-01&to=2026-01-01", "from"},
		{"from=2000-01-01&to=2026-01-01", "from"},
		{"teams=team-001", "teams"},
		{"team=a&team=b", "team"},
		{"service=%00", "service"},
	} {
		r := e.get(t, "/v1/metrics?"+tc.query, "tok-all")
		if r.code != 400 {
			t.Errorf("%s: %d, want 400", tc.query, r.code)
			continue
		}
		if msg := errorOf(t, r); !strings.HasPrefix(msg, "parameter "+tc.param+":") {
			t.Errorf("%s: error %q does not name %s", tc.query, msg, tc.param)
		}
	}
	if r := e.get(t, "/v1/teams?x=1", "tok-all"); r.code != 400 || !strings.Contains(errorOf(t, r), "parameter x") {
		t.Errorf("/v1/teams?x=1: %d %s", r.code, r.body)
	}
}

// /metrics parses with Prometheus' own parser, and its gauges carry the
// store's figures over the window.
func TestPrometheusParses(t *testing.T) { forEach(t, testPrometheusParses) }

func testPrometheusParses(t *testing.T, b backend) {
	e := newEnv(t, b)
	r := e.get(t, "/metrics", "tok-all")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %s", r.code, r.header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v\n%s", err, r.body)
	}
	want, err := e.store.Metrics(context.Background(), dora.Query{Environment: dora.Production, From: now.Add(-30 * 24 * time.Hour), To: now, Bucket: dora.Month})
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Totals) == 0 {
		t.Fatal("no totals in the window")
	}
	gauge := func(name, team, service string, extra ...string) (float64, bool) {
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_GAUGE {
			t.Fatalf("%s: missing or not a gauge", name)
		}
	next:
		for _, m := range f.Metric {
			l := map[string]string{}
			for _, lp := range m.Label {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["team"] != team || l["service"] != service || l["environment"] != "production" {
				continue
			}
			for i := 0; i < len(extra); i += 2 {
				if l[extra[i]] != extra[i+1] {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	for _, tot := range want.Totals {
		check := func(name string, want float64, extra ...string) {
			got, ok := gauge(name, tot.Team, tot.Service, extra...)
			if !ok || got != want {
				t.Errorf("%s{team=%s,service=%s %v} = %v (present %v), want %v", name, tot.Team, tot.Service, extra, got, ok, want)
			}
		}
		check("paved_dora_deployments", float64(tot.Deployments))
		check("paved_dora_deployments_per_day", tot.DeploymentsPerDay)
		check("paved_dora_change_failure_ratio", tot.ChangeFailureRate)
		check("paved_dora_band", 1, "key", "lead_time", "band", string(tot.Bands.LeadTime))
		if tot.LeadTime.Count > 0 {
			check("paved_dora_lead_time_seconds", tot.LeadTime.Median.Seconds(), "quantile", "0.5")
			check("paved_dora_lead_time_seconds", tot.LeadTime.P90.Seconds(), "quantile", "0.9")
		}
		if tot.TimeToRestore.Count > 0 {
			check("paved_dora_time_to_restore_seconds", tot.TimeToRestore.Median.Seconds(), "quantile", "0.5")
		}
	}
	if testing.Verbose() {
		os.Stdout.WriteString(r.body[:min(len(r.body), 3000)])
	}
}
