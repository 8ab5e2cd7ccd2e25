package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/ingest"
)

// teamGuard refuses (403) a request whose token is limited to some teams
// when one of its deployments or incidents names another team, or none:
// a team's CI token cannot write another team's keys. Tokens for every
// team pass untouched, so a platform-wide sender pays no second decode.
// Whatever the guard cannot read it passes on, for ingest to refuse with
// its own error naming the field.
func teamGuard(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := auth.FromContext(r.Context())
		if !ok || c.Teams == nil {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
		if err != nil || int64(len(body)) > maxBytes {
			// Too large or unreadable: ingest answers it (413 or 400).
			r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		evs, err := ingest.Decode(r.Header, body)
		if err == nil {
			for i := range evs {
				fact, err := evs[i].Interpret()
				if err != nil {
					break
				}
				team, what := "", ""
				switch f := fact.(type) {
				case *ingest.Deployment:
					team, what = f.Team, "deployment of "+f.Service
				case *ingest.Incident:
					team, what = f.Team, "incident "+f.ID
				default:
					continue
				}
				if team == "" || !c.Sees(team) {
					named := "names no team (data.customData.team)"
					if team != "" {
						named = "is for team " + team
					}
					auth.Error(w, http.StatusForbidden, fmt.Sprintf("event %d (%s/%s, %s) %s: token %s may send only its teams' events %v", i, evs[i].Source, evs[i].ID, what, named, c.Name, c.Teams))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type readCloser struct {
	io.Reader
	io.Closer
}
