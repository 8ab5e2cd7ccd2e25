package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/pavedhq/paved/internal/testtools/testregistry"
)

// faulty stands in front of a real in-process registry and answers the
// requests that match with a fault, the first fail times (or always when
// fail < 0); it counts the matching requests it receives.
type faulty struct {
	match  func(*http.Request) bool
	fault  string // a status code, or "drop" to close the connection unanswered
	fail   int32
	count  atomic.Int32
	agents atomic.Value
	// hide answers 404 to the requests it matches.
	hide func(*http.Request) bool
	// keepAlive lets the server reuse connections, as registries do.
	keepAlive bool
}

func (f *faulty) serve(t *testing.T) string {
	t.Helper()
	target, _ := url.Parse("http://" + testregistry.New(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.hide != nil && f.hide(r) {
			http.Error(w, "blob unknown", http.StatusNotFound)
			return
		}
		if !f.match(r) {
			proxy.ServeHTTP(w, r)
			return
		}
		f.agents.Store(r.UserAgent())
		if n := f.count.Add(1); f.fail >= 0 && n > f.fail {
			proxy.ServeHTTP(w, r)
			return
		}
		switch f.fault {
		case "drop":
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		case "401":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
		case "403":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`))
		case "404":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`))
		case "429":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "500":
			http.Error(w, "oops", http.StatusInternalServerError)
		case "502":
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case "503":
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		default:
			t.Errorf("unknown fault %q", f.fault)
		}
	}))
	// A fresh connection per request: Go's transport re-sends an
	// idempotent request once by itself when a reused connection drops,
	// which would blur the count of paved's attempts.
	srv.Config.SetKeepAlivesEnabled(f.keepAlive)
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// fast is Options with the same number of attempts and millisecond pauses.
func fast(ctx context.Context) []remote.Option {
	b := Backoff
	b.Duration = time.Millisecond
	return Options(ctx, remote.WithRetryBackoff(b))
}

func manifests(method string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		return r.Method == method && strings.Contains(r.URL.Path, "/manifests/")
	}
}

// TestAttemptsAreBounded sends reads and writes to a registry that fails
// them: a transient failure is retried up to Attempts times in all, never
// more (a write is not retried around go-containerregistry's own retries),
// and a definite answer is not retried at all.
func TestAttemptsAreBounded(t *testing.T) {
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fault      string
		fail       int32
		wantOK     bool
		wantTimes  int32
		wantStatus int
	}{
		{fault: "503", fail: Attempts - 1, wantOK: true, wantTimes: Attempts},
		{fault: "429", fail: Attempts - 1, wantOK: true, wantTimes: Attempts},
		{fault: "drop", fail: Attempts - 1, wantOK: true, wantTimes: Attempts},
		{fault: "500", fail: -1, wantTimes: Attempts, wantStatus: 500},
		{fault: "502", fail: -1, wantTimes: Attempts, wantStatus: 502},
		{fault: "503", fail: -1, wantTimes: Attempts, wantStatus: 503},
		{fault: "429", fail: -1, wantTimes: Attempts, wantStatus: 429},
		{fault: "drop", fail: -1, wantTimes: Attempts},
		{fault: "401", fail: -1, wantTimes: 1, wantStatus: 401},
		{fault: "403", fail: -1, wantTimes: 1, wantStatus: 403},
		{fault: "404", fail: -1, wantTimes: 1, wantStatus: 404},
	} {
		for _, op := range []string{"read", "write"} {
			t.Run(op+" "+tc.fault, func(t *testing.T) {
				method := http.MethodGet
				if op == "write" {
					method = http.MethodPut
				}
				f := &faulty{match: manifests(method), fault: tc.fault, fail: tc.fail}
				host := f.serve(t)
				ref, _ := name.NewTag(host + "/team/api:v1")
				ctx := context.Background()
				if op == "read" {
					// Put it there past the faults.
					if err := remote.Write(ref, img, remote.WithTransport(http.DefaultTransport)); err != nil {
						t.Fatal(err)
					}
					_, err = remote.Get(ref, fast(ctx)...)
				} else {
					err = remote.Write(ref, img, fast(ctx)...)
				}
				if got := f.count.Load(); got != tc.wantTimes {
					t.Errorf("%s manifest sent %d times, want %d (err %v)", method, got, tc.wantTimes, err)
				}
				if tc.wantOK != (err == nil) {
					t.Fatalf("err = %v, want success %v", err, tc.wantOK)
				}
				var te *transport.Error
				if tc.wantStatus != 0 && (!errors.As(err, &te) || te.StatusCode != tc.wantStatus) {
					t.Errorf("err = %v, want status %d", err, tc.wantStatus)
				}
				if ua, _ := f.agents.Load().(string); !strings.HasPrefix(ua, UserAgent+" ") {
					t.Errorf("User-Agent = %q, want it to start with %q", ua, UserAgent)
				}
			})
		}
	}
}

// TestFailedPingIsRetried fails the ping go-containerregistry repeats, with
// no retry of its own, when a cross-repository mount needs a new scope: on
// loopback it pings https and http at once and joins both failures, which
// its default retry predicate does not look into, so the write failed at
// once. Retryable finds the 503 inside; promote's copy needs no retry loop
// of its own around the write.
func TestFailedPingIsRetried(t *testing.T) {
	var pings atomic.Int32
	f := &faulty{fault: "503", fail: 1, keepAlive: true, match: func(r *http.Request) bool {
		// Pings: the read, the writer's first, then the scope refresh.
		return r.URL.Path == "/v2/" && pings.Add(1) == 3
	}, hide: func(r *http.Request) bool {
		// The in-process registry keeps blobs for all repositories; a
		// real one keeps them per repository, so the writer mounts them.
		return r.Method == http.MethodHead && strings.HasPrefix(r.URL.Path, "/v2/prod/") && strings.Contains(r.URL.Path, "/blobs/")
	}}
	host := f.serve(t)
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, _ := name.NewTag(host + "/staging/api:v1")
	if err := remote.Write(src, img, fast(ctx)...); err != nil {
		t.Fatal(err)
	}
	pings.Store(0)
	// Layers read from staging are mounted into prod.
	desc, err := remote.Get(src, fast(ctx)...)
	if err != nil {
		t.Fatal(err)
	}
	mounted, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := name.NewTag(host + "/prod/api:v1")
	if err := remote.Write(dst, mounted, fast(ctx)...); err != nil {
		t.Fatalf("write through a failed scope ping: %v", err)
	}
	if f.count.Load() != 1 {
		t.Fatalf("the scope ping was failed %d times, want 1: the test did not exercise it", f.count.Load())
	}
}

func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://192.168.1.10:5000/v2/", false},
		{"http://10.0.0.1/v2/", false},
		{"http://registry.local:5000/v2/", false},
		{"http://registry.example.com/v2/", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
		_, err := Transport().RoundTrip(req)
		if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
			t.Errorf("GET %s: err = %v, want a refusal of plain HTTP", tc.url, err)
		}
	}
	for _, h := range []string{"localhost", "127.0.0.1", "127.1.2.3", "::1"} {
		if !IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = false", h)
		}
	}
	for _, h := range []string{"10.0.0.1", "localhost.example.com", "0.0.0.0", "::", ""} {
		if IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = true", h)
		}
	}
	// And loopback works (the other tests use it throughout).
	host := testregistry.New(t)
	if _, err := remote.Catalog(context.Background(), mustRegistry(t, host), Options(context.Background())...); err != nil {
		t.Fatal(err)
	}
}

func mustRegistry(t *testing.T, host string) name.Registry {
	r, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWithAuthReplacesTheKeychain: remote.WithAuth next to the default
// keychain is an error in go-containerregistry; WithAuth is not.
func TestWithAuthReplacesTheKeychain(t *testing.T) {
	host := testregistry.New(t)
	ref, _ := name.NewTag(host + "/team/api:v1")
	img, _ := random.Image(64, 1)
	if err := remote.Write(ref, img, Options(context.Background(), WithAuth(&authn.Basic{Username: "u", Password: "p"}))...); err != nil {
		t.Fatal(err)
	}
}
