package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/keys"
)

// Metrics answers q from the stored events.
func (s *Store) Metrics(ctx context.Context, q dora.Query) (*dora.Report, error) {
	q = keys.Normalize(q, s.now())
	if !q.From.Before(q.To) {
		return nil, fmt.Errorf("store: empty period: from %s is not before to %s", q.From.Format("2006-01-02T15:04:05Z07:00"), q.To.Format("2006-01-02T15:04:05Z07:00"))
	}
	switch q.Bucket {
	case dora.Day, dora.Week, dora.Month:
	default:
		return nil, fmt.Errorf("store: unknown bucket %q (day, week or month)", q.Bucket)
	}
	h, err := s.history(ctx, q)
	if err != nil {
		return nil, err
	}
	return keys.Compute(q, h), nil
}

// filter narrows deployments and changes to the query's teams and service
// in SQL; Compute applies the same filter to everything.
func filter(q dora.Query) (string, []any) {
	var where []string
	var args []any
	if q.Teams != nil {
		if len(q.Teams) == 0 {
			where = append(where, "1 = 0")
		} else {
			where = append(where, "team IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.Teams)), ", ")+")")
			for _, t := range q.Teams {
				args = append(args, t)
			}
		}
	}
	if q.Team != "" {
		where = append(where, "team = ?")
		args = append(args, q.Team)
	}
	if q.Service != "" {
		where = append(where, "service = ?")
		args = append(args, q.Service)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(where, " AND "), args
}

func (s *Store) history(ctx context.Context, q dora.Query) (keys.History, error) {
	var h keys.History
	// One read transaction, so the three reads see one state.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return h, fmt.Errorf("store: reading: %w", err)
	}
	defer tx.Rollback()
	where, fargs := filter(q)

	// Every deployment of the environment: attribution by time needs the one
	// live before the period, and incidents after it may name those in it.
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT team, service, digest, at FROM deployments WHERE environment = ?`+where), append([]any{q.Environment}, fargs...)...)
	if err != nil {
		return h, fmt.Errorf("store: reading deployments: %w", err)
	}
	for rows.Next() {
		var d keys.Deployment
		var digest sql.NullString
		var at sql.NullInt64
		if err := rows.Scan(&d.Team, &d.Service, &digest, &at); err != nil {
			rows.Close()
			return h, fmt.Errorf("store: reading deployments: %w", err)
		}
		d.Digest, d.At = digest.String, fromMicros(at)
		h.Deployments = append(h.Deployments, d)
	}
	if err := closeRows(rows); err != nil {
		return h, fmt.Errorf("store: reading deployments: %w", err)
	}

	rows, err = tx.QueryContext(ctx, s.rebind(`SELECT team, service, committed, deployed FROM changes WHERE environment = ? AND deployed >= ? AND deployed < ?`+where),
		append([]any{q.Environment, q.From.UnixMicro(), q.To.UnixMicro()}, fargs...)...)
	if err != nil {
		return h, fmt.Errorf("store: reading changes: %w", err)
	}
	for rows.Next() {
		var c keys.Change
		var committed, deployed sql.NullInt64
		if err := rows.Scan(&c.Team, &c.Service, &committed, &deployed); err != nil {
			rows.Close()
			return h, fmt.Errorf("store: reading changes: %w", err)
		}
		c.Committed, c.Deployed = fromMicros(committed), fromMicros(deployed)
		h.Changes = append(h.Changes, c)
	}
	if err := closeRows(rows); err != nil {
		return h, fmt.Errorf("store: reading changes: %w", err)
	}

	rows, err = tx.QueryContext(ctx, s.rebind(`SELECT incident, team, service, digest, detected, resolved FROM incidents WHERE environment = ? AND detected IS NOT NULL`), q.Environment)
	if err != nil {
		return h, fmt.Errorf("store: reading incidents: %w", err)
	}
	for rows.Next() {
		var in keys.Incident
		var team, digest sql.NullString
		var detected, resolved sql.NullInt64
		if err := rows.Scan(&in.ID, &team, &in.Service, &digest, &detected, &resolved); err != nil {
			rows.Close()
			return h, fmt.Errorf("store: reading incidents: %w", err)
		}
		in.Team, in.Digest, in.Detected, in.Resolved = team.String, digest.String, fromMicros(detected), fromMicros(resolved)
		h.Incidents = append(h.Incidents, in)
	}
	if err := closeRows(rows); err != nil {
		return h, fmt.Errorf("store: reading incidents: %w", err)
	}
	return h, nil
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// Teams lists the teams that have deployed, with their services.
func (s *Store) Teams(ctx context.Context) ([]dora.Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT team, service FROM deployments ORDER BY team, service`)
	if err != nil {
		return nil, fmt.Errorf("store: reading teams: %w", err)
	}
	var out []dora.Team
	for rows.Next() {
		var team, service string
		if err := rows.Scan(&team, &service); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reading teams: %w", err)
		}
		if n := len(out); n == 0 || out[n-1].Name != team {
			out = append(out, dora.Team{Name: team})
		}
		out[len(out)-1].Services = append(out[len(out)-1].Services, service)
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("store: reading teams: %w", err)
	}
	return out, nil
}
