package commands

import (
	"context"
	"fmt"
	"net/http"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/store"
)

// collector is the collector's database as the dora commands use it: its
// keys, its ingest handler and how to close it.
type collector struct {
	metrics dora.Metrics
	ingest  http.Handler
	close   func() error
}

// openCollector opens the database dsn names (a SQLite file or a
// postgres:// URL), creating and migrating it as needed.
func openCollector(ctx context.Context, dsn string) (*collector, error) {
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	return &collector{metrics: s, ingest: ingest.Handler(s, ingest.Options{}), close: s.Close}, nil
}
