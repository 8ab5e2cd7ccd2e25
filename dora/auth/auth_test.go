package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
)

// tokensFile is a file with a reader for team a, a reader for every team,
// an ingest-only token and a slow one (one request per 100 s, burst 2).
func tokensFile() string {
	return fmt.Sprintf(`tokens:
  - name: a-reader
    sha256: %s
    teams: [a]
    rights: [read]
  - name: everyone
    sha256: %s
    teams: ["*"]
    rights: [read, ingest]
  - name: a-ci
    sha256: %s
    teams: [a]
    rights: [ingest]
  - name: slow
    sha256: %s
    teams: [a]
    rights: [read]
    rate: 0.01
    burst: 2
`, Hash("token-a"), Hash("token-all"), Hash("token-ci"), Hash("token-slow"))
}

func mustParse(t *testing.T, s string) *Set {
	t.Helper()
	set, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// echo answers with the claims Require passed on.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no claims", 500)
		return
	}
	fmt.Fprintf(w, "%s %v", c.Name, c.Teams)
})

func do(h http.Handler, authz string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/v1/metrics", nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not {\"error\": ...}: %v", rec.Body, err)
	}
	return e.Error
}

func TestRequire(t *testing.T) {
	set := mustParse(t, tokensFile())
	read := set.Require(Read, echo)
	ingest := set.Require(Ingest, echo)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, tc := range []struct {
		name  string
		h     http.Handler
		authz string
		code  int
		body  string // the body (200) or a part of the error
	}{
		{"reader", read, "Bearer token-a", 200, "a-reader [a]"},
		{"every team", read, "Bearer token-all", 200, "everyone []"},
		{"scheme in any case", read, "bearer token-a", 200, "a-reader [a]"},
		{"basic with the token as password", read, basic("me", "token-a"), 200, "a-reader [a]"},
		{"missing", read, "", 401, "missing token"},
		{"empty bearer", read, "Bearer ", 401, "empty bearer token"},
		{"unknown token", read, "Bearer token-b", 401, "token not recognised"},
		{"the hash is not the token", read, "Bearer " + Hash("token-a"), 401, "token not recognised"},
		{"other scheme", read, "Token token-a", 401, "unsupported Authorization scheme"},
		{"basic without password", read, basic("token-a", ""), 401, "token as the password"},
		{"malformed basic", read, "Basic %%%", 401, "malformed Basic"},
		{"ingest token cannot read", read, "Bearer token-ci", 403, "token a-ci lacks the read right"},
		{"read token cannot ingest", ingest, "Bearer token-a", 403, "token a-reader lacks the ingest right"},
		{"ingest token ingests", ingest, "Bearer token-ci", 200, "a-ci [a]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(tc.h, tc.authz)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			if tc.code == 200 {
				if rec.Body.String() != tc.body {
					t.Errorf("body %q, want %q", rec.Body, tc.body)
				}
				return
			}
			if msg := errorOf(t, rec); !strings.Contains(msg, tc.body) {
				t.Errorf("error %q does not say %q", msg, tc.body)
			}
			if strings.Contains(rec.Body.String(), "token-") && !strings.Contains(tc.body, "token ") {
				t.Errorf("the error repeats a token: %s", rec.Body)
			}
			if tc.code == 401 && len(rec.Header().Values("WWW-Authenticate")) == 0 {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	set := mustParse(t, tokensFile())
	h := set.Require(Read, echo)
	for i := range 2 { // the burst
		if rec := do(h, "Bearer token-slow"); rec.Code != 200 {
			t.Fatalf("request %d: status %d: %s", i, rec.Code, rec.Body)
		}
	}
	rec := do(h, "Bearer token-slow")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", rec.Code)
	}
	// One token per 100 s: the next is about 100 s away.
	ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || ra < 90 || ra > 100 {
		t.Errorf("Retry-After %q, want about 100 seconds", rec.Header().Get("Retry-After"))
	}
	if msg := errorOf(t, rec); !strings.Contains(msg, "slow is over its rate limit") {
		t.Errorf("error %q", msg)
	}
	// A refused request takes nothing from the bucket, and other tokens
	// have their own.
	if rec := do(h, "Bearer token-a"); rec.Code != 200 {
		t.Errorf("another token: status %d", rec.Code)
	}
}

// Guessing is bounded: past FailureBurst unknown tokens, 429, while known
// tokens still pass.
func TestGuessingIsLimited(t *testing.T) {
	set := mustParse(t, tokensFile())
	set.failures.SetLimit(0.001) // no refill during the test
	h := set.Require(Read, echo)
	for i := range FailureBurst {
		if rec := do(h, fmt.Sprintf("Bearer guess-%d", i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	rec := do(h, "Bearer guess-last")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("after %d guesses: %d, want 429 with Retry-After", FailureBurst, rec.Code)
	}
	if rec := do(h, "Bearer token-a"); rec.Code != 200 {
		t.Errorf("a known token after the guesses: %d", rec.Code)
	}
}

func TestParseErrors(t *testing.T) {
	h := Hash("x")
	for _, tc := range []struct{ name, file, want string }{
		{"empty", ``, "no tokens"},
		{"unknown field", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n    rights: [read]\n    team: b\n", "field team not found"},
		{"the token itself", "tokens:\n  - name: a\n    sha256: hunter2\n    teams: [a]\n    rights: [read]\n", "tokens[0] (a): sha256: want the 64 hex digits"},
		{"no name", "tokens:\n  - sha256: " + h + "\n    teams: [a]\n    rights: [read]\n", "tokens[0]: name: required"},
		{"no rights", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n", "rights: required"},
		{"unknown right", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n    rights: [write]\n", `unknown right "write"`},
		{"reader without teams", "tokens:\n  - name: a\n    sha256: " + h + "\n    rights: [read]\n", "teams: required"},
		{"sender without teams", "tokens:\n  - name: a\n    sha256: " + h + "\n    rights: [ingest]\n", "teams: required"},
		{"star with others", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: ['*', b]\n    rights: [read]\n", "stands alone"},
		{"negative rate", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n    rights: [read]\n    rate: -1\n", "rate: -1"},
		{"same name", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n    rights: [read]\n  - name: a\n    sha256: " + Hash("y") + "\n    teams: [a]\n    rights: [read]\n", "name a used twice"},
		{"same hash", "tokens:\n  - name: a\n    sha256: " + h + "\n    teams: [a]\n    rights: [read]\n  - name: b\n    sha256: " + h + "\n    teams: [a]\n    rights: [read]\n", "tokens[1] (b): the same sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "tokens file") || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("error %v", err)
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// has a hash and rights for every token.
func FuzzParse(f *testing.F) {
	f.Add([]byte(tokensFile()))
	f.Add([]byte("tokens:\n  - name: a\n    sha256: " + Hash("x") + "\n    teams: ['*']\n    rights: [read]\n    rate: 1e308\n    burst: 3\n"))
	f.Add([]byte("tokens: [{name: a, sha256: " + Hash("x") + ", teams: [a], rights: [ingest]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := Parse(b)
		if err != nil {
			return
		}
		for h, e := range set.byHash {
			if h == ([32]byte{}) && e.claims.Name == "" {
				t.Fatalf("accepted an empty token entry")
			}
			if len(e.claims.Rights) == 0 || e.limiter == nil {
				t.Fatalf("accepted %+v", e.claims)
			}
		}
	})
}

// FuzzCredentials: any Authorization header gives a token or a problem,
// never both or neither, and a Bearer token comes back as sent.
func FuzzCredentials(f *testing.F) {
	for _, h := range []string{"Bearer abc", "bearer  abc ", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p")), "Basic !!", "Token x", "", "Bearer"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Authorization"] = []string{h}
		token, problem := credentials(req)
		if (token == "") == (problem == "") {
			t.Fatalf("%q: token %q, problem %q", h, token, problem)
		}
		if strings.Contains(problem, token) && token != "" {
			t.Fatalf("%q: the problem repeats the token", h)
		}
	})
}

// The README's example tokens file is one the server accepts.
func TestREADMETokensFile(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\ntokens:\n")
	if !ok {
		t.Fatal("README.md has no yaml block starting with tokens:")
	}
	block, _, _ := strings.Cut(rest, "```")
	set, err := Parse([]byte("tokens:\n" + block))
	if err != nil {
		t.Fatalf("README's tokens file: %v", err)
	}
	if len(set.byHash) != 2 {
		t.Errorf("%d tokens, want 2", len(set.byHash))
	}
}
