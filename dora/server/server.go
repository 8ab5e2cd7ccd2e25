package server

import (
	"net/http"
	"time"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/api"
	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/dashboard"
	ingestpkg "github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/prom"
)

// Options tune the surfaces.
type Options struct {
	Now    func() time.Time           // default time.Now
	Log    func(*http.Request, error) // errors callers see only as a 500
	Window time.Duration              // of /metrics; default prom.DefaultWindow
	// MaxIngest is the ingest handler's body limit (default
	// ingest.DefaultMaxBytes), which the team guard reads up to.
	MaxIngest int64
}

func (o Options) maxIngest() int64 {
	if o.MaxIngest > 0 {
		return o.MaxIngest
	}
	return ingestpkg.DefaultMaxBytes
}

// New routes:
//
//	POST /v1/events   ingest (the ingest right; a token limited to some
//	                  teams sends only their deployments and incidents)
//	GET  /v1/metrics  the keys as JSON (read)
//	GET  /v1/teams    the teams the token sees (read)
//	GET  /metrics     Prometheus gauges (read)
//	GET  /            the dashboard (read)
//	GET  /healthz     200 when the server is up (no token)
//
// ingest may be nil for a read-only server.
func New(m dora.Metrics, ingest http.Handler, tokens *auth.Set, opts Options) http.Handler {
	read := func(h http.Handler) http.Handler { return tokens.Require(auth.Read, h) }
	mux := http.NewServeMux()
	if ingest != nil {
		mux.Handle("POST /v1/events", tokens.Require(auth.Ingest, teamGuard(opts.maxIngest(), ingest)))
	}
	jsonAPI := read(api.New(m, api.Options{Now: opts.Now, Log: opts.Log}))
	mux.Handle("GET /v1/metrics", jsonAPI)
	mux.Handle("GET /v1/teams", jsonAPI)
	mux.Handle("GET /metrics", read(prom.Handler(m, prom.Options{Window: opts.Window, Now: opts.Now, Log: opts.Log})))
	mux.Handle("GET /{$}", read(dashboard.Handler(m, dashboard.Options{Now: opts.Now, Log: opts.Log})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
