package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pavedhq/paved/examples/go-service/internal/store"
	"github.com/pavedhq/paved/examples/go-service/internal/version"
)

func do(t *testing.T, h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusNoContent && ct != "application/json" {
		t.Errorf("%s %s: Content-Type = %q", method, path, ct)
	}
	return rec
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(rec.Body).Decode(&v); err != nil {
		t.Fatalf("decoding %q: %v", rec.Body.String(), err)
	}
	return v
}

func newHandler() http.Handler {
	return New(store.New(), version.Get("v9.9.9"))
}

func TestHealthAndVersion(t *testing.T) {
	h := newHandler()
	rec := do(t, h, http.MethodGet, "/healthz", "")
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("/healthz = %d %s", rec.Code, rec.Body)
	}
	rec = do(t, h, http.MethodGet, "/version", "")
	if info := decode[version.Info](t, rec); rec.Code != http.StatusOK || info.Version != "v9.9.9" {
		t.Fatalf("/version = %d %+v", rec.Code, info)
	}
}

func TestNotesCRUD(t *testing.T) {
	h := newHandler()

	rec := do(t, h, http.MethodPost, "/v1/notes", `{"text":"buy milk"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST = %d %s", rec.Code, rec.Body)
	}
	created := decode[store.Note](t, rec)
	if created.Text != "buy milk" || created.ID == "" {
		t.Fatalf("created = %+v", created)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/notes/"+created.ID {
		t.Errorf("Location = %q", loc)
	}

	rec = do(t, h, http.MethodGet, "/v1/notes/"+created.ID, "")
	if got := decode[store.Note](t, rec); rec.Code != http.StatusOK || got.ID != created.ID || got.Text != created.Text {
		t.Fatalf("GET = %d %+v", rec.Code, got)
	}

	rec = do(t, h, http.MethodGet, "/v1/notes", "")
	if list := decode[[]store.Note](t, rec); rec.Code != http.StatusOK || len(list) != 1 || list[0].ID != created.ID {
		t.Fatalf("list = %d %+v", rec.Code, list)
	}

	rec = do(t, h, http.MethodDelete, "/v1/notes/"+created.ID, "")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", rec.Code, rec.Body)
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		rec = do(t, h, method, "/v1/notes/"+created.ID, "")
		if got := decode[map[string]string](t, rec); rec.Code != http.StatusNotFound || got["error"] == "" {
			t.Fatalf("%s after delete = %d %v", method, rec.Code, got)
		}
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	h := newHandler()
	for _, body := range []string{
		``,
		`not json`,
		`{"text":"   "}`,
		`{"text":"x","extra":1}`,
		`{"text":"` + strings.Repeat("a", MaxNoteBytes) + `"}`,
	} {
		rec := do(t, h, http.MethodPost, "/v1/notes", body)
		if got := decode[map[string]string](t, rec); rec.Code != http.StatusBadRequest || got["error"] == "" {
			name := body
			if len(name) > 40 {
				name = name[:40] + "..."
			}
			t.Errorf("POST %q = %d %v, want 400", name, rec.Code, got)
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	h := newHandler()
	if rec := do(t, h, http.MethodGet, "/nope", ""); rec.Code != http.StatusNotFound {
		t.Errorf("GET /nope = %d", rec.Code)
	}
	if rec := do(t, h, http.MethodPut, "/healthz", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT /healthz = %d", rec.Code)
	}
}
