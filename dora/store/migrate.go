package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema's versions, in order; version n is
// migrations[n-1]. Append; never edit one that has shipped. The SQL is the
// common subset of SQLite and PostgreSQL.
var migrations = [][]string{
	{ // 1: events and the facts the keys read
		`CREATE TABLE events (
			source TEXT NOT NULL,
			id TEXT NOT NULL,
			type TEXT NOT NULL,
			subject TEXT,
			time BIGINT,
			datacontenttype TEXT,
			data TEXT,
			data_base64 INTEGER NOT NULL DEFAULT 0,
			received BIGINT NOT NULL,
			PRIMARY KEY (source, id))`,
		`CREATE TABLE deployments (
			source TEXT NOT NULL,
			id TEXT NOT NULL,
			environment TEXT NOT NULL,
			team TEXT NOT NULL,
			service TEXT NOT NULL,
			kind TEXT NOT NULL,
			digest TEXT,
			at BIGINT NOT NULL,
			PRIMARY KEY (source, id))`,
		// Covering indexes: the keys read these columns of every row in a
		// period without visiting the tables.
		`CREATE INDEX deployments_keys ON deployments (environment, team, service, at, digest)`,
		// One row per commit and environment: its first deployment there.
		`CREATE TABLE changes (
			environment TEXT NOT NULL,
			service TEXT NOT NULL,
			sha TEXT NOT NULL,
			team TEXT NOT NULL,
			committed BIGINT NOT NULL,
			deployed BIGINT NOT NULL,
			PRIMARY KEY (environment, service, sha))`,
		`CREATE INDEX changes_keys ON changes (environment, deployed, team, service, committed)`,
		`CREATE TABLE incidents (
			environment TEXT NOT NULL,
			service TEXT NOT NULL,
			incident TEXT NOT NULL,
			team TEXT,
			digest TEXT,
			detected BIGINT,
			resolved BIGINT,
			PRIMARY KEY (environment, service, incident))`,
		// How many events are stored, kept by Append in PostgreSQL (where a
		// count would read every row) for the in-memory view to notice
		// other collectors' writes; SQLite uses the events' largest rowid.
		`CREATE TABLE revision (id INTEGER PRIMARY KEY, events BIGINT NOT NULL)`,
		`INSERT INTO revision (id, events) VALUES (1, 0)`,
	},
	{ // 2: the keys read the derived tables whole into the in-memory view,
		// so these indexes were written on every ingest and never read.
		`DROP INDEX IF EXISTS deployments_keys`,
		`DROP INDEX IF EXISTS changes_keys`,
	},
}

// SchemaVersion is the version Open migrates to.
var SchemaVersion = len(migrations)

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("store: schema_migrations: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrating: %w", err)
	}
	defer tx.Rollback()
	if s.postgres {
		// Two collectors starting at once migrate one after the other.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("store: locking schema_migrations: %w", err)
		}
	}
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("store: schema version: %w", err)
	}
	v := int(have.Int64)
	if v > len(migrations) {
		return fmt.Errorf("store: the database's schema is version %d, newer than this collector's %d", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, applied) VALUES (?, ?)`), v+1, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("store: migration %d: %w", v+1, err)
		}
	}
	return tx.Commit()
}
