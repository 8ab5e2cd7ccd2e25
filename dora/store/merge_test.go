package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/internal/wire"
	"github.com/pavedhq/paved/dora/store"
)

// mergeEvents are six events about one service whose derived rows do not
// depend on the order they arrive in: commit x's row is its earliest
// deployment's (B, whose team and commit time differ from A's, so a
// partial update would show), and incident i takes its team and digest
// from the one event that has them, its detection from the earliest
// detection and its resolution from the earliest resolution (deployment C,
// not the later incident.resolved).
func mergeEvents(service string) []wire.Event {
	const d = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	dep := func(id, team, when string, commits []wire.Commit, resolves ...string) wire.Event {
		return wire.Deploy{Source: "paved/" + service, ID: id, Team: team, Service: service, Digest: d, At: at(when), Commits: commits, Resolves: resolves}.Event()
	}
	return []wire.Event{
		dep("A", "late", "2025-03-03 10:00", []wire.Commit{{SHA: "x", Time: at("2025-03-03 08:00")}}),
		dep("B", "early", "2025-03-03 09:00", []wire.Commit{{SHA: "x", Time: at("2025-03-03 07:00")}}),
		wire.Incident{Source: "other/" + service, ID: "open", Incident: "i", Service: service, At: at("2025-03-03 12:00")}.Event(),
		wire.Incident{Source: "pager/" + service, ID: "open", Incident: "i", Team: "early", Service: service, Digest: d, At: at("2025-03-03 12:05")}.Event(),
		dep("C", "early", "2025-03-03 12:30", nil, "i"),
		wire.Incident{Source: "pager/" + service, ID: "close", Kind: "resolved", Incident: "i", Team: "early", Service: service, At: at("2025-03-03 13:00")}.Event(),
	}
}

var mergeQuery = dora.Query{From: at("2025-03-03 00:00"), To: at("2025-03-10 00:00"), Bucket: dora.Day}

// derived is the changes and incidents rows, one line each, by service.
func derived(t *testing.T, dsn string) map[string][]string {
	t.Helper()
	db := openSQL(t, dsn)
	clock := func(v sql.NullInt64) string {
		if !v.Valid {
			return "-"
		}
		return time.UnixMicro(v.Int64).UTC().Format("15:04")
	}
	out := map[string][]string{}
	rows, err := db.Query(`SELECT environment, service, sha, team, committed, deployed FROM changes ORDER BY environment, service, sha`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var env, service, sha, team string
		var committed, deployed sql.NullInt64
		if err := rows.Scan(&env, &service, &sha, &team, &committed, &deployed); err != nil {
			t.Fatal(err)
		}
		out[service] = append(out[service], fmt.Sprintf("change %s %s team %s committed %s deployed %s", env, sha, team, clock(committed), clock(deployed)))
	}
	rows.Close()
	rows, err = db.Query(`SELECT environment, service, incident, team, digest, detected, resolved FROM incidents ORDER BY environment, service, incident`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var env, service, id string
		var team, digest sql.NullString
		var detected, resolved sql.NullInt64
		if err := rows.Scan(&env, &service, &id, &team, &digest, &detected, &resolved); err != nil {
			t.Fatal(err)
		}
		out[service] = append(out[service], fmt.Sprintf("incident %s %s team %q digest %.10q detected %s resolved %s", env, id, team.String, digest.String, clock(detected), clock(resolved)))
	}
	rows.Close()
	return out
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// TestDerivedRowsIndependentOfOrder: the rows a commit's first deployment
// and an incident's merge leave in the database are the same whatever the
// order and batching of the events, each order in its own service: the
// database's upsert rules (in SQLite an insert and a merge) agree with
// the in-memory merge of one batch. The orders: every order of the four
// incident events, with the two deployments of x before, between and
// after them, either way round.
func TestDerivedRowsIndependentOfOrder(t *testing.T) {
	ctx := context.Background()
	want := []string{
		"change production x team early committed 07:00 deployed 09:00",
		`incident production i team "early" digest "sha256:ddd" detected 12:00 resolved 12:30`,
	}
	forEach(t, func(t *testing.T, b backend) {
		st, dsn := open(t, b)
		// Loaded before the appends, the store's view merges them in
		// memory; a fresh store's view, at the end, reads the rows.
		if _, err := st.Metrics(ctx, mergeQuery); err != nil {
			t.Fatal(err)
		}
		var perms [][]int
		for n, p := range permutations(4) {
			for i := range p {
				p[i] += 2
			}
			a, b := 0, 1
			if n%2 == 1 {
				a, b = 1, 0
			}
			first, second := n%5, (n/5)%5
			first, second = min(first, second), max(first, second)
			q := slices.Insert(slices.Clone(p), second, b)
			perms = append(perms, slices.Insert(q, first, a))
		}
		for n, p := range perms {
			evs := mergeEvents(fmt.Sprintf("p%d", n))
			for _, i := range p {
				if _, err := st.Append(ctx, decode(t, evs[i:i+1])); err != nil {
					t.Fatal(err)
				}
			}
		}
		// One batch, merged before it reaches the database.
		if _, err := st.Append(ctx, decode(t, mergeEvents("batch"))); err != nil {
			t.Fatal(err)
		}
		// Halves, so that a statement holds rows both new and stored.
		for _, half := range [][]int{{5, 2, 0}, {1, 3, 4}} {
			var evs []wire.Event
			for _, i := range half {
				evs = append(evs, mergeEvents("halves")[i], mergeEvents(fmt.Sprintf("halves%d", i))[i])
			}
			if _, err := st.Append(ctx, decode(t, evs)); err != nil {
				t.Fatal(err)
			}
		}
		got := derived(t, dsn)
		for n, p := range perms {
			if diff := cmp.Diff(want, got[fmt.Sprintf("p%d", n)]); diff != "" {
				t.Errorf("events in order %v (-want +got):\n%s", p, diff)
			}
		}
		for _, s := range []string{"batch", "halves"} {
			if diff := cmp.Diff(want, got[s]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", s, diff)
			}
		}
		// An event alone leaves the row it describes.
		alone := map[int][]string{
			0: {"change production x team late committed 08:00 deployed 10:00"},
			1: {"change production x team early committed 07:00 deployed 09:00"},
			2: {`incident production i team "" digest "" detected 12:00 resolved -`},
			3: {`incident production i team "early" digest "sha256:ddd" detected 12:05 resolved -`},
			4: {`incident production i team "" digest "" detected - resolved 12:30`},
			5: {`incident production i team "early" digest "" detected - resolved 13:00`},
		}
		for i, w := range alone {
			if diff := cmp.Diff(w, got[fmt.Sprintf("halves%d", i)]); diff != "" {
				t.Errorf("event %d alone (-want +got):\n%s", i, diff)
			}
		}

		// A fresh store's view (read from these rows) agrees with the
		// view this store kept while appending.
		fresh, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer fresh.Close()
		a, err := st.Metrics(ctx, mergeQuery)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fresh.Metrics(ctx, mergeQuery)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(f, a); diff != "" {
			t.Errorf("fresh store (-) and appending store (+) differ:\n%s", diff)
		}
	})
}
