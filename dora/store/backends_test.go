package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/internal/testtools/pgtest"
)

// postgres is the server every PostgreSQL case uses (a database each);
// pgErr says why there is none.
var (
	postgres *pgtest.Server
	pgErr    error
	dbSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	postgres, pgErr = pgtest.Launch(pgtest.Options{})
	code := m.Run()
	if postgres != nil {
		if err := postgres.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping PostgreSQL:", err)
		}
	}
	os.Exit(code)
}

// backend opens a fresh, empty store.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

// backends are the databases every store test runs against: the same
// suite for SQLite and PostgreSQL.
var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "dora.db") }},
	{"postgres", func(t *testing.T) string {
		if postgres == nil {
			pgtest.Unavailable(t, pgErr)
		}
		name := fmt.Sprintf("t%d", dbSeq.Add(1))
		admin, err := sql.Open("pgx", postgres.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close()
		if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
			t.Fatal(err)
		}
		return strings.Replace(postgres.DSN, "/postgres?", "/"+name+"?", 1)
	}},
}

func open(t *testing.T, b backend) (*store.Store, string) {
	t.Helper()
	dsn := b.dsn(t)
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dsn
}

// openSQL opens the database dsn names with database/sql, for a test to
// read the rows the store wrote; it closes when t ends.
func openSQL(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if strings.HasPrefix(dsn, "postgres://") {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// forEach runs f against each backend as a subtest.
func forEach(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}
