package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	h, err := s.mem.history(ctx, s, q)
	if err != nil {
		return nil, err
	}
	return keys.Compute(q, h), nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
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

// Fields and records of the aggregated reads: names may not hold control
// characters (ingest refuses them), so these cannot occur inside a field.
const (
	unitSep   = "\x1f"
	recordSep = "\x1e"
)

// packed returns SQL aggregating cols of every row into one string, fields
// separated by unitSep and rows by recordSep: one row crosses from the
// database to Go instead of hundreds of thousands, which is most of the cost
// of reading a year.
func (s *Store) packed(cols ...string) string {
	sep, agg := "char(31)", "group_concat(%s, char(30))"
	if s.postgres {
		sep, agg = "chr(31)", "string_agg(%s, chr(30))"
	}
	for i, c := range cols {
		cols[i] = "CAST(" + c + " AS TEXT)"
	}
	return fmt.Sprintf(agg, strings.Join(cols, " || "+sep+" || "))
}

// unpack calls row with the fields of each record of a packed string.
func unpack(p string, n int, row func(f []string) error) error {
	f := make([]string, n)
	for rec := range strings.SplitSeq(p, recordSep) {
		if rec == "" {
			continue
		}
		for i := range n {
			var ok bool
			if i == n-1 {
				f[i], ok = rec, !strings.Contains(rec, unitSep)
			} else {
				f[i], rec, ok = strings.Cut(rec, unitSep)
			}
			if !ok {
				return fmt.Errorf("malformed record %q", rec)
			}
		}
		if err := row(f); err != nil {
			return err
		}
	}
	return nil
}

func micro(s string) (time.Time, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	return time.UnixMicro(v).UTC(), err
}

// scan runs a query and calls row for each row.
func (s *Store) scan(ctx context.Context, db querier, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", query, err)
	}
	for rows.Next() {
		if err := row(rows); err != nil {
			rows.Close()
			return fmt.Errorf("store: %s: %w", query, err)
		}
	}
	if err := closeRows(rows); err != nil {
		return fmt.Errorf("store: %s: %w", query, err)
	}
	return nil
}

// interner returns one string per distinct name.
type interner map[string]string

func (n interner) get(s string) string {
	if v, ok := n[s]; ok {
		return v
	}
	s = strings.Clone(s) // not a slice of the packed string, which can then go
	n[s] = s
	return s
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

// scanPacked runs a query answering one packed string (NULL when no row
// matched) and calls row for each record.
func (s *Store) scanPacked(ctx context.Context, db querier, query string, args []any, n int, row func([]string) error) error {
	var p sql.NullString
	if err := db.QueryRowContext(ctx, s.rebind(query), args...).Scan(&p); err != nil {
		return fmt.Errorf("store: %s: %w", query, err)
	}
	if err := unpack(p.String, n, row); err != nil {
		return fmt.Errorf("store: %s: %w", query, err)
	}
	return nil
}
