package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver

	"github.com/pavedhq/paved/dora"
)

// Store is the collector's database.
type Store struct {
	w, r     *sql.DB // writes and reads; the same pool for PostgreSQL
	postgres bool
	now      func() time.Time
	stmts    map[stmtKey]*sql.Stmt // prepared statements by kind and rows; read-only after Open
	mem      view
}

var _ dora.Metrics = (*Store)(nil)

// Open opens (creating and migrating as needed) the database dsn names:
// a postgres:// or postgresql:// URL, else a SQLite file path (optionally
// prefixed sqlite:).
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("store: no database: give a SQLite file path or a postgres:// URL")
	}
	var s *Store
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s, err = openPostgres(dsn)
	} else {
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	s.now = time.Now
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openPostgres(dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres %s: %w", Redact(dsn), err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return &Store{w: db, r: db, postgres: true}, nil
}

func openSQLite(path string) (*Store, error) {
	if path == "" || strings.HasPrefix(path, "file:") && strings.Contains(path, "?") {
		return nil, fmt.Errorf("store: sqlite: give a plain file path, not %q", path)
	}
	// FULL makes each commit durable on disk, not just against a crash of
	// the process; immediate transactions take the write lock up front so
	// writers queue on busy_timeout instead of failing mid-transaction.
	// Checkpoints every 40 MB of WAL (not SQLite's 4 MB, about one
	// request's pages) copy the index pages each request rewrites once per
	// ten requests, not once per request; an acknowledged commit is durable
	// in the WAL either way. Statement journals (which undo one statement
	// of a transaction) stay in memory: they were a file written for each
	// of a request's multi-row statements, and they never serve recovery.
	q := "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(10000)&_pragma=temp_store(MEMORY)"
	open := func(n int) (*sql.DB, error) {
		dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + q
		if n == 1 {
			dsn += "&_txlock=immediate"
		}
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxLifetime(0)
		return db, nil
	}
	if err := create(path); err != nil {
		return nil, err
	}
	w, err := open(1) // SQLite has one writer at a time; queue in Go
	if err != nil {
		return nil, err
	}
	r, err := open(4)
	if err != nil {
		w.Close()
		return nil, err
	}
	if err := w.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	return &Store{w: w, r: r}, nil
}

// create makes a new SQLite database with 16 KiB pages, which hold 19
// events of about 800 bytes where 4 KiB pages hold 4, so that a commit
// writes fewer WAL frames. The page size is set before WAL mode (the
// driver runs its pragmas in alphabetical order, WAL first), and only for
// a database that does not exist yet.
func create(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, p := range []string{"PRAGMA page_size = 16384", "PRAGMA journal_mode = WAL"} {
		if _, err := db.Exec(p); err != nil {
			return fmt.Errorf("store: sqlite %s: %w", path, err)
		}
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range s.stmts {
		st.Close()
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Redact returns dsn without its password, for errors and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if !s.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
