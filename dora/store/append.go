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

// statement is a multi-row statement: head, the VALUES rows, tail (an
// INSERT's ON CONFLICT clause), ret (its RETURNING clause).
type statement struct {
	what, head, tail, ret string
	cols                  int
	merge                 *statement // SQLite: the tail's DO UPDATE, for the rows stored before
}

// text is the statement's SQL for rows rows.
//
// In SQLite, every insert says INSERT OR IGNORE rather than ON CONFLICT.
// With ON CONFLICT the other constraints (NOT NULL) still abort the
// statement, and a DO UPDATE checks them with ABORT whatever the insert
// says; a multi-row statement of a transaction that may abort after
// writing some rows needs a statement journal: every page it changes
// copied first, in memory, so that the statement alone can be undone.
// That copy, and freeing it after each statement, took a quarter of the
// ingest's CPU time in the events' inserts and about 8% more in the
// upserts. Append never passes NULL to a NOT NULL column (the attributes
// are checked non-empty first), so nothing else is ignored. An upsert
// (DO UPDATE) becomes the INSERT OR IGNORE followed, when it skipped
// rows, by its merge: an UPDATE OR IGNORE, by the same rule, of the rows
// stored before. PostgreSQL keeps ON CONFLICT.
func (st statement) text(postgres bool, rows int) string {
	h, ok := strings.CutPrefix(st.head, "INSERT INTO ")
	if postgres || !ok {
		return st.head + values(rows, st.cols) + st.tail + st.ret
	}
	return "INSERT OR IGNORE INTO " + h + values(rows, st.cols) + st.ret
}

// doNothing ends the inserts that skip rows already stored.
const doNothing = ` ON CONFLICT (source, id) DO NOTHING`

var (
	insertEvents = statement{what: "events", head: `INSERT INTO events (source, id, type, subject, time, datacontenttype, data, data_base64, received) VALUES `,
		tail: doNothing, ret: ` RETURNING source, id`, cols: 9}
	insertPlainEvents = statement{what: "plain events", head: insertEvents.head, tail: doNothing, cols: 9}
	insertDeployments = statement{what: "deployments", head: `INSERT INTO deployments (source, id, environment, team, service, kind, digest, at) VALUES `,
		tail: doNothing, cols: 8}
	// A commit's row keeps its first deployment: team, commit time and
	// deployment time of the earliest deployment that carried it.
	upsertChanges = statement{what: "changes", head: `INSERT INTO changes (environment, service, sha, team, committed, deployed) VALUES `,
		tail: ` ON CONFLICT (environment, service, sha) DO UPDATE SET
			team = CASE WHEN excluded.deployed < changes.deployed THEN excluded.team ELSE changes.team END,
			committed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.committed ELSE changes.committed END,
			deployed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.deployed ELSE changes.deployed END`, cols: 6,
		merge: &statement{what: "changes merge", head: `UPDATE OR IGNORE changes SET team = v.column4, committed = v.column5, deployed = v.column6 FROM (VALUES `,
			tail: `) AS v WHERE changes.environment = v.column1 AND changes.service = v.column2 AND changes.sha = v.column3
				AND v.column6 < changes.deployed`, cols: 6}}
	// An incident's row keeps the first team and digest known, and the
	// earliest detection and resolution. The merge writes only the rows it
	// changes (not those the insert just stored).
	upsertIncidents = statement{what: "incidents", head: `INSERT INTO incidents (environment, service, incident, team, digest, detected, resolved) VALUES `,
		tail: ` ON CONFLICT (environment, service, incident) DO UPDATE SET
			team = COALESCE(incidents.team, excluded.team),
			digest = COALESCE(incidents.digest, excluded.digest),
			detected = CASE WHEN incidents.detected IS NULL OR excluded.detected < incidents.detected THEN excluded.detected ELSE incidents.detected END,
			resolved = CASE WHEN incidents.resolved IS NULL OR excluded.resolved < incidents.resolved THEN excluded.resolved ELSE incidents.resolved END`, cols: 7,
		merge: &statement{what: "incidents merge", head: `UPDATE OR IGNORE incidents SET
			team = COALESCE(incidents.team, v.column4),
			digest = COALESCE(incidents.digest, v.column5),
			detected = CASE WHEN incidents.detected IS NULL OR v.column6 < incidents.detected THEN v.column6 ELSE incidents.detected END,
			resolved = CASE WHEN incidents.resolved IS NULL OR v.column7 < incidents.resolved THEN v.column7 ELSE incidents.resolved END
			FROM (VALUES `,
			tail: `) AS v WHERE incidents.environment = v.column1 AND incidents.service = v.column2 AND incidents.incident = v.column3
				AND (incidents.team IS NULL AND v.column4 IS NOT NULL OR incidents.digest IS NULL AND v.column5 IS NOT NULL
					OR incidents.detected IS NULL AND v.column6 IS NOT NULL OR v.column6 < incidents.detected
					OR incidents.resolved IS NULL AND v.column7 IS NOT NULL OR v.column7 < incidents.resolved)`, cols: 7}}
)

// prepare prepares every statement Append uses, for every row count, once
// (Open calls it: with SQLite's single writer connection, preparing inside
// a transaction would wait for the connection the transaction holds).
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = map[stmtKey]*sql.Stmt{}
	all := []statement{insertEvents, insertPlainEvents, insertDeployments, upsertChanges, upsertIncidents}
	if !s.postgres {
		all = append(all, *upsertChanges.merge, *upsertIncidents.merge)
	}
	for _, st := range all {
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
			res, err := stmt.ExecContext(ctx, part...)
			if err != nil {
				return fmt.Errorf("store: storing %s: %w", st.what, err)
			}
			if s.postgres || st.merge == nil {
				continue
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("store: storing %s: %w", st.what, err)
			}
			if int(n) == rows {
				continue // every row was new
			}
			if stmt, err = s.stmt(ctx, tx, *st.merge, rows); err != nil {
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
