package commands

import (
	"context"
	"errors"
	"net/http"

	"github.com/pavedhq/paved/dora"
)

// collector is the collector's database as the dora commands use it: its
// keys, its ingest handler and how to close it.
type collector struct {
	metrics dora.Metrics
	ingest  http.Handler
	close   func() error
}

// openCollector opens the database dsn names (a SQLite file or a
// postgres:// URL).
func openCollector(ctx context.Context, dsn string) (*collector, error) {
	return nil, errors.New("--db: this paved has no collector store yet")
}
