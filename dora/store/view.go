package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/keys"
)

// view holds the derived tables in memory, so that a query computes the
// keys without reading a year of rows (hundreds of thousands of commits)
// from the database each time. It is loaded from the database by the
// first query, kept up to date by this Store's Append, and loaded again
// when the database changed otherwise: token counts the stored events
// (the largest rowid in SQLite, where rows are never deleted; in
// PostgreSQL a counter that Append raises in its transaction), and a query whose token differs from the view's reloads.
// Merges are idempotent, so an Append applied twice (once through a reload
// that already saw its commit) changes nothing.
type view struct {
	mu        sync.Mutex
	loaded    bool
	token     int64
	deps      map[depKey]dep
	changes   map[changeKey]change
	incidents map[incidentKey]incident
	// built is each environment's history as slices, built from the maps
	// when a query needs it and dropped when apply or load changes them.
	built map[string]*keys.History
}

// apply adds a committed batch's facts.
func (v *view) apply(f *facts, added int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded {
		return
	}
	for k, d := range f.deps {
		v.deps[k] = d
	}
	for k, c := range f.changes {
		mergeChange(v.changes, k, c)
	}
	for k, in := range f.incidents {
		mergeIncident(v.incidents, k, in)
	}
	v.token += int64(added)
	v.built = nil
}

func (s *Store) token(ctx context.Context, db querier) (int64, error) {
	q := `SELECT COALESCE(MAX(rowid), 0) FROM events`
	if s.postgres {
		q = `SELECT events FROM revision WHERE id = 1`
	}
	var n int64
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: reading the events' count: %w", err)
	}
	return n, nil
}

// history returns what q needs, from the view, loading it first if it is
// missing or stale.
func (v *view) history(ctx context.Context, s *Store, q dora.Query) (keys.History, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var h keys.History
	tok, err := s.token(ctx, s.r)
	if err != nil {
		return h, err
	}
	if !v.loaded || tok != v.token {
		if err := v.load(ctx, s); err != nil {
			return h, err
		}
	}
	full := v.built[q.Environment]
	if full == nil {
		full = v.build(q.Environment)
		if v.built == nil {
			v.built = map[string]*keys.History{}
		}
		v.built[q.Environment] = full
	}
	if q.Team == "" && q.Service == "" {
		return *full, nil // Compute reads, never writes, the slices
	}
	match := func(team, service string) bool {
		return (q.Team == "" || team == q.Team) && (q.Service == "" || service == q.Service)
	}
	for _, d := range full.Deployments {
		if match(d.Team, d.Service) {
			h.Deployments = append(h.Deployments, d)
		}
	}
	for _, c := range full.Changes {
		if match(c.Team, c.Service) {
			h.Changes = append(h.Changes, c)
		}
	}
	h.Incidents = full.Incidents // their team may come from a deployment: Compute filters them
	return h, nil
}

// build turns an environment's part of the maps into a history, changes
// grouped by service.
func (v *view) build(env string) *keys.History {
	h := &keys.History{}
	for _, d := range v.deps {
		if d.env == env {
			h.Deployments = append(h.Deployments, keys.Deployment{Team: d.team, Service: d.service, Digest: d.digest, At: d.at})
		}
	}
	for k, c := range v.changes {
		if k.env == env {
			h.Changes = append(h.Changes, keys.Change{Team: c.team, Service: k.service, Committed: c.committed, Deployed: c.deployed})
		}
	}
	keys.SortDeployments(h)
	slices.SortFunc(h.Changes, func(a, b keys.Change) int {
		return cmp.Or(strings.Compare(a.Team, b.Team), strings.Compare(a.Service, b.Service))
	})
	for k, in := range v.incidents {
		if k.env == env && !in.detected.IsZero() {
			h.Incidents = append(h.Incidents, keys.Incident{ID: k.id, Team: in.team, Service: k.service, Digest: in.digest, Detected: in.detected, Resolved: in.resolved})
		}
	}
	return h
}

// load reads the derived tables, and the token, in one read transaction.
func (v *view) load(ctx context.Context, s *Store) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.postgres {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for all the reads
	}
	tx, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: loading: %w", err)
	}
	defer tx.Rollback()
	tok, err := s.token(ctx, tx)
	if err != nil {
		return err
	}
	deps := map[depKey]dep{}
	changes := map[changeKey]change{}
	incidents := map[incidentKey]incident{}
	names := interner{}
	err = errors.Join(
		s.scanPacked(ctx, tx, `SELECT `+s.packed("source", "id", "environment", "team", "service", "kind", "at", "COALESCE(digest, '')")+` FROM deployments`, nil, 8, func(f []string) error {
			at, err := micro(f[6])
			deps[depKey{f[0], f[1]}] = dep{env: names.get(f[2]), team: names.get(f[3]), service: names.get(f[4]), kind: names.get(f[5]), at: at, digest: f[7]}
			return err
		}),
		s.scanPacked(ctx, tx, `SELECT `+s.packed("environment", "service", "sha", "team", "committed", "deployed")+` FROM changes`, nil, 6, func(f []string) error {
			committed, err1 := micro(f[4])
			deployed, err2 := micro(f[5])
			changes[changeKey{names.get(f[0]), names.get(f[1]), f[2]}] = change{team: names.get(f[3]), committed: committed, deployed: deployed}
			return errors.Join(err1, err2)
		}),
		s.scan(ctx, tx, `SELECT environment, service, incident, team, digest, detected, resolved FROM incidents`, nil, func(rows *sql.Rows) error {
			var k incidentKey
			var team, digest sql.NullString
			var detected, resolved sql.NullInt64
			if err := rows.Scan(&k.env, &k.service, &k.id, &team, &digest, &detected, &resolved); err != nil {
				return err
			}
			incidents[k] = incident{team: team.String, digest: digest.String, detected: fromMicros(detected), resolved: fromMicros(resolved)}
			return nil
		}),
	)
	if err != nil {
		return err
	}
	v.loaded, v.token, v.deps, v.changes, v.incidents, v.built = true, tok, deps, changes, incidents, nil
	return nil
}
