package runner

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIDTokenFromEnvironment(t *testing.T) {
	t.Setenv("SIGSTORE_ID_TOKEN", "tok-env")
	if tok, err := IDToken(context.Background(), "sigstore"); err != nil || tok != "tok-env" {
		t.Fatalf("IDToken = %q, %v", tok, err)
	}
}

// TestIDTokenFromGitHubActions serves the token endpoint the way GitHub
// Actions does (a stand-in: the real service needs a workflow run) and
// checks the request paved makes.
func TestIDTokenFromGitHubActions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer req-secret" || r.URL.Query().Get("audience") != "sigstore" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad request", http.StatusForbidden)
			return
		}
		w.Write([]byte(`{"value":"oidc-token"}`))
	}))
	defer srv.Close()
	t.Setenv("SIGSTORE_ID_TOKEN", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/token?api-version=2.0")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req-secret")
	tok, err := IDToken(context.Background(), "sigstore")
	if err != nil || tok != "oidc-token" {
		t.Fatalf("IDToken = %q, %v", tok, err)
	}
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong")
	if _, err := IDToken(context.Background(), "sigstore"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a refused request: %v (must fail without echoing the token)", err)
	}
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	if _, err := IDToken(context.Background(), "sigstore"); !errors.Is(err, ErrNoIDToken) {
		t.Fatalf("no token source: %v", err)
	}
}
