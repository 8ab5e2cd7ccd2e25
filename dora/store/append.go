package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pavedhq/paved/dora/ingest"
)

var _ ingest.Appender = (*Store)(nil)

// chunk bounds the rows of one multi-row statement (SQLite allows 32766
// parameters, PostgreSQL 65535). Statements are prepared once per row
// count, and row counts are powers of two up to chunk, so a store keeps at
// most nine statements of each kind.
const chunk = 256

// piece is how many of n remaining rows the next statement takes.
func piece(n int) int {
	p := chunk
	for p > n {
		p /= 2
	}
	return p
}

// statement is a multi-row INSERT: head, the VALUES rows, tail.
type statement struct {
	what, head, tail string
	cols             int
}

// text is the statement's SQL for rows rows.
//
// In SQLite, the inserts that only skip duplicates say INSERT OR IGNORE
// rather than ON CONFLICT DO NOTHING. Both skip a row whose (source, id)
// is stored, but with DO NOTHING the other constraints (NOT NULL) still
// abort the statement, and a statement of a transaction that may abort
// after writing some rows needs a statement journal: every page it
// changes copied first, in memory, so that the statement alone can be
// undone. That copy was a quarter of the ingest's CPU time. Append never
// passes NULL to a NOT NULL column (the attributes are checked non-empty
// first), so nothing else is ignored; PostgreSQL keeps ON CONFLICT.
func (st statement) text(postgres bool, rows int) string {
	head, tail := st.head, st.tail
	if !postgres {
		if h, ok := strings.CutPrefix(head, "INSERT INTO "); ok && strings.HasPrefix(tail, doNothing) {
			head, tail = "INSERT OR IGNORE INTO "+h, strings.TrimPrefix(tail, doNothing)
		}
	}
	return head + values(rows, st.cols) + tail
}

// doNothing ends the inserts that skip rows already stored.
const doNothing = ` ON CONFLICT (source, id) DO NOTHING`

var (
	insertEvents = statement{"events", `INSERT INTO events (source, id, type, subject, time, datacontenttype, data, data_base64, received) VALUES `,
		doNothing + ` RETURNING source, id`, 9}
	insertPlainEvents = statement{"plain events", insertEvents.head, doNothing, 9}
	insertDeployments = statement{"deployments", `INSERT INTO deployments (source, id, environment, team, service, kind, digest, at) VALUES `,
		doNothing, 8}
	upsertChanges = statement{"changes", `INSERT INTO changes (environment, service, sha, team, committed, deployed) VALUES `,
		` ON CONFLICT (environment, service, sha) DO UPDATE SET
			team = CASE WHEN excluded.deployed < changes.deployed THEN excluded.team ELSE changes.team END,
			committed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.committed ELSE changes.committed END,
			deployed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.deployed ELSE changes.deployed END`, 6}
	upsertIncidents = statement{"incidents", `INSERT INTO incidents (environment, service, incident, team, digest, detected, resolved) VALUES `,
		` ON CONFLICT (environment, service, incident) DO UPDATE SET
			team = COALESCE(incidents.team, excluded.team),
			digest = COALESCE(incidents.digest, excluded.digest),
			detected = CASE WHEN incidents.detected IS NULL OR excluded.detected < incidents.detected THEN excluded.detected ELSE incidents.detected END,
			resolved = CASE WHEN incidents.resolved IS NULL OR excluded.resolved < incidents.resolved THEN excluded.resolved ELSE incidents.resolved END`, 7}
)

// prepare prepares every statement Append uses, for every row count, once
// (Open calls it: with SQLite's single writer connection, preparing inside
// a transaction would wait for the connection the transaction holds).
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = map[stmtKey]*sql.Stmt{}
	for _, st := range []statement{insertEvents, insertPlainEvents, insertDeployments, upsertChanges, upsertIncidents} {
		for rows := chunk; rows >= 1; rows /= 2 {
			p, err := s.w.PrepareContext(ctx, s.rebind(st.text(s.postgres, rows)))
			if err != nil {
				return fmt.Errorf("store: preparing %s: %w", st.what, err)
			}
			s.stmts[stmtKey{st.what, rows}] = p
		}
	}
	return nil
}

type stmtKey struct {
	what string
	rows int
}

// stmt returns st for rows rows bound to tx.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, st statement, rows int) (*sql.Stmt, error) {
	p, ok := s.stmts[stmtKey{st.what, rows}]
	if !ok {
		return nil, fmt.Errorf("store: no prepared %s statement for %d rows", st.what, rows)
	}
	return tx.StmtContext(ctx, p), nil
}

// Append stores events in one transaction; when it returns nil they are
// committed. Events already stored (same source and id), or repeated in
// the batch, are skipped; added counts the new ones.
func (s *Store) Append(ctx context.Context, events []ingest.Event) (added int, err error) {
	type key struct{ source, id string }
	seen := make(map[key]bool, len(events))
	uniq := make([]*ingest.Event, 0, len(events))
	for i := range events {
		k := key{events[i].Source, events[i].ID}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, &events[i])
		}
	}
	for _, e := range uniq {
		if _, err := e.Interpret(); err != nil {
			return 0, fmt.Errorf("store: event %s/%s: %w", e.Source, e.ID, err)
		}
	}

	// PostgreSQL may abort one of two transactions that upsert the same
	// rows (a deadlock, a serialization failure); it is safe to run again.
	for attempt := 1; ; attempt++ {
		added, err = s.appendOnce(ctx, uniq)
		if err == nil || attempt == 3 || !retryable(err) {
			return added, err
		}
	}
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func (s *Store) appendOnce(ctx context.Context, uniq []*ingest.Event) (int, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()

	// Only the events the keys read (deployments and incidents, a few in
	// a hundred) need to be known as new, to derive their facts once; the
	// rest are inserted without RETURNING, counted by the rows affected.
	var factual, plain []*ingest.Event
	for _, e := range uniq {
		if x, _ := e.Interpret(); x != nil {
			factual = append(factual, e)
		} else {
			plain = append(plain, e)
		}
	}
	received := s.now().UnixMicro()
	args := make([]any, 0, min(len(uniq), chunk)*insertEvents.cols)
	rowsOf := func(part []*ingest.Event) []any {
		args = args[:0]
		for _, e := range part {
			var d any
			b64 := 0
			if len(e.Data) > 0 {
				if e.JSONData() {
					d = string(e.Data) // JSON text, stored as received (TEXT, not BLOB)
				} else {
					d, b64 = base64.StdEncoding.EncodeToString(e.Data), 1
				}
			}
			args = append(args, e.Source, e.ID, e.Type, null(e.Subject), micros(e.Time), null(e.DataContentType), d, b64, received)
		}
		return args
	}
	added := 0
	for start := 0; start < len(plain); {
		part := plain[start : start+piece(len(plain)-start)]
		start += len(part)
		st, err := s.stmt(ctx, tx, insertPlainEvents, len(part))
		if err != nil {
			return 0, err
		}
		res, err := st.ExecContext(ctx, rowsOf(part)...)
		if err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		added += int(n)
	}
	type key struct{ source, id string }
	var fresh []*ingest.Event
	for start := 0; start < len(factual); {
		part := factual[start : start+piece(len(factual)-start)]
		start += len(part)
		st, err := s.stmt(ctx, tx, insertEvents, len(part))
		if err != nil {
			return 0, err
		}
		rows, err := st.QueryContext(ctx, rowsOf(part)...)
		if err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		inserted := map[key]bool{}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.source, &k.id); err != nil {
				rows.Close()
				return 0, fmt.Errorf("store: inserting events: %w", err)
			}
			inserted[k] = true
		}
		if err := closeRows(rows); err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		for _, e := range part {
			if inserted[key{e.Source, e.ID}] {
				fresh = append(fresh, e)
			}
		}
	}
	added += len(fresh)
	f := factsOf(fresh)
	if err := s.derive(ctx, tx, f); err != nil {
		return 0, err
	}
	if s.postgres && added > 0 {
		// Last, so that the row's lock is held only until the commit.
		if _, err := tx.ExecContext(ctx, `UPDATE revision SET events = events + $1 WHERE id = 1`, added); err != nil {
			return 0, fmt.Errorf("store: counting events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	s.mem.apply(f, added)
	return added, nil
}

// values returns "(?, ?), (?, ?)" for rows of n columns.
func values(rows, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

type changeKey struct{ env, service, sha string }

type change struct {
	team                string
	committed, deployed time.Time
}

type incidentKey struct{ env, service, id string }

type incident struct {
	team, digest       string
	detected, resolved time.Time
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// derive stores the facts of newly stored events: deployments, the first
// deployment of each commit, and incidents (merged with what is stored:
// the earliest detection and resolution win).
// facts are what a batch of new events adds to the derived tables, merged
// within the batch.
type facts struct {
	deps      map[depKey]dep
	changes   map[changeKey]change
	incidents map[incidentKey]incident
}

type depKey struct{ source, id string }

type dep struct {
	env, team, service, kind, digest string
	at                               time.Time
}

// mergeIncident merges in into m: the first team and digest known, the
// earliest detection and resolution.
func mergeIncident(m map[incidentKey]incident, k incidentKey, in incident) {
	if old, ok := m[k]; ok {
		if old.team == "" {
			old.team = in.team
		}
		if old.digest == "" {
			old.digest = in.digest
		}
		old.detected = earlier(old.detected, in.detected)
		old.resolved = earlier(old.resolved, in.resolved)
		in = old
	}
	m[k] = in
}

// mergeChange keeps the earliest deployment of a commit.
func mergeChange(m map[changeKey]change, k changeKey, c change) {
	if old, ok := m[k]; !ok || c.deployed.Before(old.deployed) {
		m[k] = c
	}
}

func factsOf(fresh []*ingest.Event) *facts {
	f := &facts{deps: map[depKey]dep{}, changes: map[changeKey]change{}, incidents: map[incidentKey]incident{}}
	for _, e := range fresh {
		x, _ := e.Interpret()
		switch x := x.(type) {
		case *ingest.Deployment:
			f.deps[depKey{e.Source, e.ID}] = dep{x.Environment, x.Team, x.Service, x.Kind, x.Digest, x.At}
			for _, c := range x.Commits {
				mergeChange(f.changes, changeKey{x.Environment, x.Service, c.SHA}, change{team: x.Team, committed: c.Time, deployed: x.At})
			}
			for _, id := range x.Resolves {
				mergeIncident(f.incidents, incidentKey{x.Environment, x.Service, id}, incident{resolved: x.At})
			}
		case *ingest.Incident:
			mergeIncident(f.incidents, incidentKey{x.Environment, x.Service, x.ID}, incident{team: x.Team, digest: x.Digest, detected: x.Detected, resolved: x.Resolved})
		}
	}
	return f
}

// derive stores the facts of newly stored events: deployments, the first
// deployment of each commit, and incidents (merged with what is stored:
// the earliest detection and resolution win).
func (s *Store) derive(ctx context.Context, tx *sql.Tx, f *facts) error {
	dkeys := slices.SortedFunc(maps.Keys(f.deps), func(a, b depKey) int {
		return cmp.Or(strings.Compare(a.source, b.source), strings.Compare(a.id, b.id))
	})
	deps := make([]any, 0, len(f.deps)*8)
	for _, k := range dkeys {
		d := f.deps[k]
		deps = append(deps, k.source, k.id, d.env, d.team, d.service, d.kind, null(d.digest), d.at.UnixMicro())
	}
	changes, incidents := f.changes, f.incidents
	exec := func(st statement, args []any) error {
		for start := 0; start < len(args); {
			rows := piece((len(args) - start) / st.cols)
			part := args[start : start+rows*st.cols]
			start += len(part)
			stmt, err := s.stmt(ctx, tx, st, rows)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, part...); err != nil {
				return fmt.Errorf("store: storing %s: %w", st.what, err)
			}
		}
		return nil
	}
	if err := exec(insertDeployments, deps); err != nil {
		return err
	}
	// Rows in key order, so that concurrent transactions (PostgreSQL) lock
	// them in one order and do not deadlock.
	ckeys := slices.SortedFunc(maps.Keys(changes), func(a, b changeKey) int {
		return cmp.Or(strings.Compare(a.env, b.env), strings.Compare(a.service, b.service), strings.Compare(a.sha, b.sha))
	})
	args := make([]any, 0, len(changes)*6)
	for _, k := range ckeys {
		c := changes[k]
		args = append(args, k.env, k.service, k.sha, c.team, c.committed.UnixMicro(), c.deployed.UnixMicro())
	}
	if err := exec(upsertChanges, args); err != nil {
		return err
	}
	ikeys := slices.SortedFunc(maps.Keys(incidents), func(a, b incidentKey) int {
		return cmp.Or(strings.Compare(a.env, b.env), strings.Compare(a.service, b.service), strings.Compare(a.id, b.id))
	})
	args = make([]any, 0, len(incidents)*7)
	for _, k := range ikeys {
		in := incidents[k]
		args = append(args, k.env, k.service, k.id, null(in.team), null(in.digest), micros(in.detected), micros(in.resolved))
	}
	return exec(upsertIncidents, args)
}
