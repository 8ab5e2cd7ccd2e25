package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/auth"
)

// Options tune the handler.
type Options struct {
	// Now is the clock for default periods (default time.Now).
	Now func() time.Time
	// Log receives the store's errors, which callers only see as a 500
	// (they may name the database). Default: dropped.
	Log func(r *http.Request, err error)
}

// New serves GET /v1/metrics and GET /v1/teams from m. Wrap it with
// auth.Set.Require(auth.Read, ...): a request without claims is refused.
func New(m dora.Metrics, opts Options) http.Handler {
	h := &handler{m: m, Options: opts}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Log == nil {
		h.Log = func(*http.Request, error) {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/metrics", h.metrics)
	mux.HandleFunc("GET /v1/teams", h.teams)
	return mux
}

type handler struct {
	m dora.Metrics
	Options
}

// ErrForbidden is a query for a team the caller's token may not see.
var ErrForbidden = errors.New("forbidden")

// Scope limits q to the teams c may see: q.Teams becomes c's teams, and an
// explicit q.Team outside them is ErrForbidden (403), never an answer.
func Scope(q *dora.Query, c *auth.Claims) error {
	if c == nil {
		return fmt.Errorf("%w: no token", ErrForbidden)
	}
	if q.Team != "" && !c.Sees(q.Team) {
		return fmt.Errorf("%w: token %s may not see team %s", ErrForbidden, c.Name, q.Team)
	}
	if c.Teams != nil {
		q.Teams = slices.Clone(c.Teams)
	}
	return nil
}

// Visible drops from r whatever c may not see: the store already limits
// its answer to q.Teams, this makes a store that did not harmless.
func Visible(r *dora.Report, c *auth.Claims) {
	r.Rows = slices.DeleteFunc(r.Rows, func(x dora.Row) bool { return !c.Sees(x.Team) })
	r.Totals = slices.DeleteFunc(r.Totals, func(x dora.Total) bool { return !c.Sees(x.Team) })
}

// Report answers a request's query for its caller: parse, scope, ask,
// filter. Its error is a *ParamError (400), ErrForbidden (403) or the
// store's.
func Report(r *http.Request, m dora.Metrics, now time.Time) (*dora.Report, error) {
	q, err := ParseQuery(r.URL.Query(), now)
	if err != nil {
		return nil, err
	}
	c, _ := auth.FromContext(r.Context())
	if err := Scope(&q, c); err != nil {
		return nil, err
	}
	rep, err := m.Metrics(r.Context(), q)
	if err != nil {
		return nil, &storeError{err}
	}
	Visible(rep, c)
	return rep, nil
}

type storeError struct{ err error }

func (e *storeError) Error() string { return "metrics store: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// WriteError answers err with its status: 400 naming the parameter, 403,
// or 500 (the detail goes to log, not to the caller).
func WriteError(w http.ResponseWriter, r *http.Request, err error, log func(*http.Request, error)) {
	var pe *ParamError
	switch {
	case errors.As(err, &pe):
		auth.Error(w, http.StatusBadRequest, pe.Error())
	case errors.Is(err, ErrForbidden):
		auth.Error(w, http.StatusForbidden, err.Error())
	default:
		log(r, err)
		auth.Error(w, http.StatusInternalServerError, "the metrics store failed to answer (the server's log has the detail)")
	}
}

func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	rep, err := Report(r, h.m, h.Now())
	if err != nil {
		WriteError(w, r, err, h.Log)
		return
	}
	writeJSON(w, NewResponse(rep))
}

func (h *handler) teams(w http.ResponseWriter, r *http.Request) {
	if len(r.URL.Query()) > 0 {
		for k := range r.URL.Query() {
			auth.Error(w, http.StatusBadRequest, (&ParamError{k, "unknown parameter (/v1/teams takes none)"}).Error())
			return
		}
	}
	c, ok := auth.FromContext(r.Context())
	if !ok {
		auth.Error(w, http.StatusForbidden, "forbidden: no token")
		return
	}
	teams, err := h.m.Teams(r.Context())
	if err != nil {
		WriteError(w, r, &storeError{err}, h.Log)
		return
	}
	teams = slices.DeleteFunc(teams, func(t dora.Team) bool { return !c.Sees(t.Name) })
	if teams == nil {
		teams = []dora.Team{}
	}
	writeJSON(w, struct {
		Teams []dora.Team `json:"teams"`
	}{teams})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}
