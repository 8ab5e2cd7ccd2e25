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
// parameters, PostgreSQL 65535).
const chunk = 500

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
	for start := 0; start < len(uniq); start += chunk {
		part := uniq[start:min(start+chunk, len(uniq))]
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
		q := s.rebind(`INSERT INTO events (source, id, type, subject, time, datacontenttype, data, data_base64, received) VALUES ` +
			values(len(part), 9) + ` ON CONFLICT (source, id) DO NOTHING RETURNING source, id`)
		rows, err := tx.QueryContext(ctx, q, args...)
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
	exec := func(what, head string, cols int, args []any, tail string) error {
		for start := 0; start < len(args); start += chunk * cols {
			part := args[start:min(start+chunk*cols, len(args))]
			if _, err := tx.ExecContext(ctx, s.rebind(head+values(len(part)/cols, cols)+tail), part...); err != nil {
				return fmt.Errorf("store: storing %s: %w", what, err)
			}
		}
		return nil
	}
	if err := exec("deployments", `INSERT INTO deployments (source, id, environment, team, service, kind, digest, at) VALUES `, 8, deps,
		` ON CONFLICT (source, id) DO NOTHING`); err != nil {
		return err
	}
	args := make([]any, 0, len(changes)*6)
	for k, c := range changes {
		args = append(args, k.env, k.service, k.sha, c.team, c.committed.UnixMicro(), c.deployed.UnixMicro())
	}
	if err := exec("changes", `INSERT INTO changes (environment, service, sha, team, committed, deployed) VALUES `, 6, args,
		` ON CONFLICT (environment, service, sha) DO UPDATE SET
			team = CASE WHEN excluded.deployed < changes.deployed THEN excluded.team ELSE changes.team END,
			committed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.committed ELSE changes.committed END,
			deployed = CASE WHEN excluded.deployed < changes.deployed THEN excluded.deployed ELSE changes.deployed END`); err != nil {
		return err
	}
	args = make([]any, 0, len(incidents)*7)
	for k, in := range incidents {
		args = append(args, k.env, k.service, k.id, null(in.team), null(in.digest), micros(in.detected), micros(in.resolved))
	}
	return exec("incidents", `INSERT INTO incidents (environment, service, incident, team, digest, detected, resolved) VALUES `, 7, args,
		` ON CONFLICT (environment, service, incident) DO UPDATE SET
			team = COALESCE(incidents.team, excluded.team),
			digest = COALESCE(incidents.digest, excluded.digest),
			detected = CASE WHEN incidents.detected IS NULL OR excluded.detected < incidents.detected THEN excluded.detected ELSE incidents.detected END,
			resolved = CASE WHEN incidents.resolved IS NULL OR excluded.resolved < incidents.resolved THEN excluded.resolved ELSE incidents.resolved END`)
}
