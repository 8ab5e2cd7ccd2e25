// Package server implements the HTTP API of the notes service.
package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/pavedhq/paved/examples/go-service/internal/store"
	"github.com/pavedhq/paved/examples/go-service/internal/version"
)

// MaxNoteBytes is the largest request body accepted by POST /v1/notes.
const MaxNoteBytes = 64 << 10

// New returns the service's HTTP handler.
func New(s *store.Store, info version.Info) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, info)
	})

	r.Route("/v1/notes", func(r chi.Router) {
		r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, s.List())
		})
		r.Post("/", func(w http.ResponseWriter, req *http.Request) {
			var body struct {
				Text string `json:"text"`
			}
			dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, MaxNoteBytes))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil {
				writeError(w, http.StatusBadRequest, "invalid JSON body")
				return
			}
			if strings.TrimSpace(body.Text) == "" {
				writeError(w, http.StatusBadRequest, "text must not be empty")
				return
			}
			n := s.Create(body.Text)
			w.Header().Set("Location", "/v1/notes/"+n.ID)
			writeJSON(w, http.StatusCreated, n)
		})
		r.Get("/{id}", func(w http.ResponseWriter, req *http.Request) {
			n, err := s.Get(chi.URLParam(req, "id"))
			if err != nil {
				writeStoreError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, n)
		})
		r.Delete("/{id}", func(w http.ResponseWriter, req *http.Request) {
			if err := s.Delete(chi.URLParam(req, "id")); err != nil {
				writeStoreError(w, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	})

	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	return r
}

func writeStoreError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeError(w, http.StatusInternalServerError, "internal error")
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
