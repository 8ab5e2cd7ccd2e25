package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

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

var (
	insertEvents = statement{"events", `INSERT INTO events (source, id, type, subject, time, datacontenttype, data, data_base64, received) VALUES `,
		` ON CONFLICT (source, id) DO NOTHING RETURNING source, id`, 9}
	insertDeployments = statement{"deployments", `INSERT INTO deployments (source, id, environment, team, service, kind, digest, at) VALUES `,
		` ON CONFLICT (source, id) DO NOTHING`, 8}
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
	s.stmts = map[string]*sql.Stmt{}
	for _, st := range []statement{insertEvents, insertDeployments, upsertChanges, upsertIncidents} {
		for rows := chunk; rows >= 1; rows /= 2 {
			p, err := s.w.PrepareContext(ctx, s.rebind(st.head+values(rows, st.cols)+st.tail))
			if err != nil {
				return fmt.Errorf("store: preparing %s: %w", st.what, err)
			}
			s.stmts[fmt.Sprintf("%s/%d", st.what, rows)] = p
		}
	}
	return nil
}

// stmt returns st for rows rows bound to tx.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, st statement, rows int) (*sql.Stmt, error) {
	p, ok := s.stmts[fmt.Sprintf("%s/%d", st.what, rows)]
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

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()

	received := s.now().UnixMicro()
	var fresh []*ingest.Event
	for start := 0; start < len(uniq); {
		part := uniq[start : start+piece(len(uniq)-start)]
		start += len(part)
		args := make([]any, 0, len(part)*9)
		for _, e := range part {
			data, b64 := string(e.Data), 0
			if len(e.Data) > 0 && !e.JSONData() {
				data, b64 = base64.StdEncoding.EncodeToString(e.Data), 1
			}
			var d any
			if len(e.Data) > 0 {
				d = data
			}
			args = append(args, e.Source, e.ID, e.Type, null(e.Subject), micros(e.Time), null(e.DataContentType), d, b64, received)
		}
		st, err := s.stmt(ctx, tx, insertEvents, len(part))
		if err != nil {
			return 0, err
		}
		rows, err := st.QueryContext(ctx, args...)
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
		if err := rows.Close(); err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("store: inserting events: %w", err)
		}
		for _, e := range part {
			if inserted[key{e.Source, e.ID}] {
				fresh = append(fresh, e)
			}
		}
	}
	if err := s.derive(ctx, tx, fresh); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: commit: %w", err)
	}
	return len(fresh), nil
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
func (s *Store) derive(ctx context.Context, tx *sql.Tx, fresh []*ingest.Event) error {
	var deps []any
	ndeps := 0
	changes := map[changeKey]change{}
	incidents := map[incidentKey]incident{}
	mergeIncident := func(k incidentKey, in incident) {
		old, ok := incidents[k]
		if ok {
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
		incidents[k] = in
	}
	for _, e := range fresh {
		f, _ := e.Interpret()
		switch f := f.(type) {
		case *ingest.Deployment:
			deps = append(deps, e.Source, e.ID, f.Environment, f.Team, f.Service, f.Kind, null(f.Digest), f.At.UnixMicro())
			ndeps++
			for _, c := range f.Commits {
				k := changeKey{f.Environment, f.Service, c.SHA}
				if old, ok := changes[k]; !ok || f.At.Before(old.deployed) {
					changes[k] = change{team: f.Team, committed: c.Time, deployed: f.At}
				}
			}
			for _, id := range f.Resolves {
				mergeIncident(incidentKey{f.Environment, f.Service, id}, incident{resolved: f.At})
			}
		case *ingest.Incident:
			mergeIncident(incidentKey{f.Environment, f.Service, f.ID}, incident{team: f.Team, digest: f.Digest, detected: f.Detected, resolved: f.Resolved})
		}
	}
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
	args := make([]any, 0, len(changes)*6)
	for k, c := range changes {
		args = append(args, k.env, k.service, k.sha, c.team, c.committed.UnixMicro(), c.deployed.UnixMicro())
	}
	if err := exec(upsertChanges, args); err != nil {
		return err
	}
	args = make([]any, 0, len(incidents)*7)
	for k, in := range incidents {
		args = append(args, k.env, k.service, k.id, null(in.team), null(in.digest), micros(in.detected), micros(in.resolved))
	}
	return exec(upsertIncidents, args)
}
