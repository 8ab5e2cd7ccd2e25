package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The GitHub API cannot be reached from here, so these tests run the
// client against a local httptest server standing in for it: the server
// checks every call (method, path, query, headers, JSON body) the way the
// REST API documents them, and answers as GitHub does.

const token = "ghp_s3cr3tT0kenValue0123456789"

// call is one request the stand-in received.
type call struct {
	Method, Path, Query string
	Body                map[string]string
}

// reply is a canned answer.
type reply struct {
	status int
	body   string
	header map[string]string
}

// fakeGitHub serves replies in order, one per request, and records the
// calls after checking their headers.
func fakeGitHub(t *testing.T, replies ...reply) (*httptest.Server, func() []call) {
	t.Helper()
	var mu sync.Mutex
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for h, want := range map[string]string{
			"Authorization":        "Bearer " + token,
			"Accept":               "application/vnd.github+json",
			"X-Github-Api-Version": "2022-11-28",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, h, got, want)
			}
		}
		c := call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
		if r.Method == http.MethodPost {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("POST Content-Type = %q", ct)
			}
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &c.Body); err != nil {
				t.Errorf("POST body %q: %v", b, err)
			}
		}
		mu.Lock()
		calls = append(calls, c)
		n := len(calls)
		mu.Unlock()
		if n > len(replies) {
			t.Errorf("unexpected call %d: %s %s", n, r.Method, r.URL)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		rep := replies[n-1]
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []call {
		mu.Lock()
		defer mu.Unlock()
		return append([]call(nil), calls...)
	}
}

// fastRetries makes the retry backoff short for one test.
func fastRetries(t *testing.T) {
	saved := retryDelays
	retryDelays = []time.Duration{time.Millisecond, 2 * time.Millisecond}
	t.Cleanup(func() { retryDelays = saved })
}

func pr(api string) PullRequest {
	return PullRequest{
		APIURL: api, Token: token, Repo: "acme/deploy",
		Head: "paved/promote-api-9893f46b04f2", Base: "main",
		Title: "promote ghcr.io/acme/api@sha256:9893f46b04f2", Body: "Pin the promoted image.",
	}
}

var create = call{Method: "POST", Path: "/repos/acme/deploy/pulls", Body: map[string]string{
	"title": "promote ghcr.io/acme/api@sha256:9893f46b04f2", "head": "paved/promote-api-9893f46b04f2",
	"base": "main", "body": "Pin the promoted image.",
}}

const created = `{"number": 42, "html_url": "https://github.com/acme/deploy/pull/42", "state": "open"}`

func TestOpenPullRequest(t *testing.T) {
	lookup := call{Method: "GET", Path: "/repos/acme/deploy/pulls", Query: "base=main&head=acme%3Apaved%2Fpromote-api-9893f46b04f2&state=open"}
	exists := `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for acme:paved/promote-api-9893f46b04f2."}],"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}`
	tests := []struct {
		name    string
		replies []reply
		want    *OpenedPullRequest
		calls   []call
		err     []string // substrings of the error
		status  int      // of the *APIError
	}{{
		name:    "created",
		replies: []reply{{201, created, nil}},
		want:    &OpenedPullRequest{Number: 42, URL: "https://github.com/acme/deploy/pull/42"},
		calls:   []call{create},
	}, {
		name:    "already open: looked up",
		replies: []reply{{422, exists, nil}, {200, `[{"number": 7, "html_url": "https://github.com/acme/deploy/pull/7"}]`, nil}},
		want:    &OpenedPullRequest{Number: 7, URL: "https://github.com/acme/deploy/pull/7", Existing: true},
		calls:   []call{create, lookup},
	}, {
		name:    "already exists but not open",
		replies: []reply{{422, exists, nil}, {200, `[]`, nil}},
		calls:   []call{create, lookup},
		err:     []string{"422", "already exists", "no open pull request"},
		status:  422,
	}, {
		name:    "other validation failure: no lookup",
		replies: []reply{{422, `{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"No commits between main and paved/promote-api-9893f46b04f2"}]}`, nil}},
		calls:   []call{create},
		err:     []string{"POST /repos/acme/deploy/pulls", "422 Unprocessable Entity", "No commits between"},
		status:  422,
	}, {
		name:    "bad credentials: not retried, token not shown",
		replies: []reply{{401, `{"message":"Bad credentials: ` + token + `","documentation_url":"https://docs.github.com/rest"}`, nil}},
		calls:   []call{create},
		err:     []string{"401 Unauthorized", "Bad credentials"},
		status:  401,
	}, {
		name:    "server error, then created",
		replies: []reply{{502, `<html>bad gateway</html>`, nil}, {201, created, nil}},
		want:    &OpenedPullRequest{Number: 42, URL: "https://github.com/acme/deploy/pull/42"},
		calls:   []call{create, create},
	}, {
		name:    "rate limited, then created",
		replies: []reply{{429, `{"message":"You have exceeded a secondary rate limit"}`, map[string]string{"Retry-After": "0"}}, {201, created, nil}},
		want:    &OpenedPullRequest{Number: 42, URL: "https://github.com/acme/deploy/pull/42"},
		calls:   []call{create, create},
	}, {
		name:    "server errors until it gives up",
		replies: []reply{{500, `{"message":"oops"}`, nil}, {503, `{"message":"oops"}`, nil}, {500, `{"message":"still down"}`, nil}},
		calls:   []call{create, create, create},
		err:     []string{"500 Internal Server Error", "still down"},
		status:  500,
	}, {
		name:    "Retry-After too long: no wait",
		replies: []reply{{429, `{"message":"slow down"}`, map[string]string{"Retry-After": "3600"}}},
		calls:   []call{create},
		err:     []string{"429", "slow down"},
		status:  429,
	}, {
		name:    "forbidden: not retried",
		replies: []reply{{403, `{"message":"Resource not accessible by integration"}`, nil}},
		calls:   []call{create},
		err:     []string{"403 Forbidden", "Resource not accessible"},
		status:  403,
	}, {
		name:    "answer without a number",
		replies: []reply{{201, `{}`, nil}},
		calls:   []call{create},
		err:     []string{"names no pull request"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fastRetries(t)
			srv, calls := fakeGitHub(t, tt.replies...)
			got, err := OpenPullRequest(context.Background(), pr(srv.URL+"/"))
			if tt.err == nil && err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.err {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error shows the token: %v", err)
			}
			var apiErr *APIError
			if tt.status != 0 && (!errors.As(err, &apiErr) || apiErr.StatusCode != tt.status) {
				t.Errorf("error %v is not an *APIError with status %d", err, tt.status)
			}
			if tt.want != nil && (got == nil || *got != *tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			gotCalls := calls()
			if len(gotCalls) != len(tt.calls) {
				t.Fatalf("calls:\n%+v\nwant:\n%+v", gotCalls, tt.calls)
			}
			for i := range gotCalls {
				g, w := gotCalls[i], tt.calls[i]
				if g.Method != w.Method || g.Path != w.Path || g.Query != w.Query || len(g.Body) != len(w.Body) {
					t.Errorf("call %d: %+v, want %+v", i, g, w)
				}
				for k, v := range w.Body {
					if g.Body[k] != v {
						t.Errorf("call %d: body %s = %q, want %q", i, k, g.Body[k], v)
					}
				}
			}
		})
	}
}

// TestOpenPullRequestTimeout: the context bounds the whole call,
// including a server that never answers.
func TestOpenPullRequestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := OpenPullRequest(ctx, pr(srv.URL))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}

func TestOpenPullRequestInvalid(t *testing.T) {
	for name, edit := range map[string]func(*PullRequest){
		"no token":   func(p *PullRequest) { p.Token = "" },
		"bad repo":   func(p *PullRequest) { p.Repo = "acme" },
		"repo path":  func(p *PullRequest) { p.Repo = "acme/../x" },
		"dot-dot":    func(p *PullRequest) { p.Repo = "acme/.." },
		"no base":    func(p *PullRequest) { p.Base = "" },
		"no title":   func(p *PullRequest) { p.Title = "" },
		"bad scheme": func(p *PullRequest) { p.APIURL = "file:///etc" },
	} {
		t.Run(name, func(t *testing.T) {
			p := pr("http://127.0.0.1:1")
			edit(&p)
			_, err := OpenPullRequest(context.Background(), p)
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

// TestBumpThenPullRequest is the whole GitOps bump: commit, push to a bare
// repository standing in for GitHub's, and open the pull request on the
// stand-in API; a second bump opens nothing new.
func TestBumpThenPullRequest(t *testing.T) {
	isolate(t)
	dir, _ := newRepo(t, map[string]string{"deploy/prod/kustomization.yaml": kustomization})
	remote := filepath.Join(t.TempDir(), "deploy.git")
	git(t, dir, "init", "-q", "--bare", remote)
	git(t, dir, "remote", "add", "origin", remote)
	opts := Options{Dir: dir, Overlay: "deploy/prod/kustomization.yaml", Image: api, SourceCommit: source, Remote: "origin"}
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := PullRequest{
		Head:  res.Branch,
		Base:  "main",
		Title: "promote ghcr.io/acme/api@" + newDigest[:19] + " (source 1a2b3c4d5e6f)",
		Body: "Pin deploy/prod/kustomization.yaml to the promoted image.\n\n" +
			"Image: ghcr.io/acme/api@" + newDigest + "\nPrevious-Image: ghcr.io/acme/api:v1.4.2\nSource-Commit: " + source,
	}
	if got := res.PullRequest(); got != want {
		t.Fatalf("pull request:\n%+v\nwant:\n%+v", got, want)
	}

	srv, calls := fakeGitHub(t,
		reply{201, created, nil},
		reply{422, `{"message":"Validation Failed","errors":[{"message":"A pull request already exists for acme:` + res.Branch + `."}]}`, nil},
		reply{200, `[{"number": 42, "html_url": "https://github.com/acme/deploy/pull/42"}]`, nil})
	open := func(r *Result) *OpenedPullRequest {
		p := r.PullRequest()
		p.APIURL, p.Token, p.Repo = srv.URL, token, "acme/deploy"
		opened, err := OpenPullRequest(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return opened
	}
	if got := open(res); got.Number != 42 || got.Existing {
		t.Errorf("first: %+v", got)
	}
	again, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed || again.Commit != res.Commit {
		t.Fatalf("second run: %+v", again)
	}
	if got := open(again); got.Number != 42 || !got.Existing {
		t.Errorf("second: %+v", got)
	}
	c := calls()
	if len(c) != 3 || c[0].Body["head"] != res.Branch || c[0].Body["base"] != "main" || c[1].Body["title"] != want.Title {
		t.Errorf("calls: %+v", c)
	}
}

// TestAPIURLKeepsTheTokenSecret: the token goes only over https, or plain
// http on loopback (the stand-in here), never with credentials in the URL,
// and an error never repeats them.
func TestAPIURLKeepsTheTokenSecret(t *testing.T) {
	const pw = "Pa55w0rdInURL"
	for _, api := range []string{
		"http://github.example.com/api/v3",
		"http://10.0.0.7/api/v3",
		"http://127.0.0.1.example.com/",
		"http://x-access-token:" + pw + "@127.0.0.1:1",
		"https://user:" + pw + "@github.example.com/api/v3",
		"https://" + pw + "@github.example.com",
		"http://user:" + pw + "@[::1",
		"ftp://github.example.com",
		"//github.example.com",
	} {
		t.Run(api, func(t *testing.T) {
			_, err := OpenPullRequest(context.Background(), pr(api))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), token) {
				t.Errorf("the error shows a secret: %v", err)
			}
			if !strings.Contains(err.Error(), "GitHub API URL") {
				t.Errorf("err = %v, want one naming the GitHub API URL", err)
			}
		})
	}

	srv, _ := fakeGitHub(t, reply{201, created, nil}, reply{201, created, nil})
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	for _, api := range []string{srv.URL, "http://localhost:" + port} {
		if _, err := OpenPullRequest(context.Background(), pr(api)); err != nil {
			t.Errorf("%s: %v", api, err)
		}
	}

	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			t.Error("no token over https")
		}
		io.WriteString(w, created)
	}))
	defer tls.Close()
	p := pr(tls.URL)
	p.Client = tls.Client()
	if _, err := OpenPullRequest(context.Background(), p); err != nil {
		t.Errorf("https: %v", err)
	}
}

// TestDefaultClientRefusesPlainRedirect: a redirect to plain http off
// loopback would carry the token in clear (Go keeps Authorization on a
// redirect to the same host).
func TestDefaultClientRefusesPlainRedirect(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("http://github.example.com/api/v3/repos/acme/deploy/pulls", http.StatusTemporaryRedirect))
	defer srv.Close()
	_, err := OpenPullRequest(context.Background(), pr(srv.URL))
	if err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Fatalf("err = %v, want a refused redirect", err)
	}
}

// TestDefaultClientTimeout: without a deadline in the context, the default
// client still gives up on a server that never answers.
func TestDefaultClientTimeout(t *testing.T) {
	saved := Timeout
	Timeout = 200 * time.Millisecond
	t.Cleanup(func() { Timeout = saved })
	fastRetries(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// With the body read, the server notices the client hang up.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	_, err := OpenPullRequest(context.Background(), pr(srv.URL))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a time-out", err)
	}
}
