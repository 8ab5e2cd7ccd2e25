package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	indexHTML = "<!doctype html><title>app</title><div id=app></div>"
	appJS     = "console.log('app')"
)

// site is a built single-page application as Vite lays it out.
func site() fstest.MapFS {
	return fstest.MapFS{
		"index.html":               {Data: []byte(indexHTML)},
		"index.html.gz":            {Data: gz(indexHTML)},
		"assets/index-BtlwJ2Qs.js": {Data: []byte(appJS)},
		// Brotli bytes are opaque here: the server only picks the file.
		"assets/index-BtlwJ2Qs.js.br": {Data: []byte("brotli of app.js")},
		"assets/index-BtlwJ2Qs.js.gz": {Data: gz(appJS)},
		"assets/style-3f2a1b9c.css":   {Data: []byte("body{}")},
		"favicon.ico":                 {Data: []byte("icon")},
		"docs/index.html":             {Data: []byte("docs")},
		"empty/.keep":                 {Data: nil},
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandler(t *testing.T) {
	h := Handler(site(), "/healthz")
	tests := []struct {
		name, method, path, accept string
		status                     int
		body, cache, ctype, enc    string
		vary                       bool
	}{
		{name: "root", path: "/", status: 200, body: indexHTML, cache: CacheRevalidate, ctype: "text/html; charset=utf-8", vary: true},
		{name: "index by name", path: "/index.html", status: 200, body: indexHTML, cache: CacheRevalidate, ctype: "text/html; charset=utf-8", vary: true},
		{name: "route falls back", path: "/users/42/settings", status: 200, body: indexHTML, cache: CacheRevalidate, ctype: "text/html; charset=utf-8", vary: true},
		{name: "route gzip", path: "/users", accept: "gzip, deflate", status: 200, body: string(gz(indexHTML)), cache: CacheRevalidate, ctype: "text/html; charset=utf-8", enc: "gzip", vary: true},
		{name: "hashed asset", path: "/assets/index-BtlwJ2Qs.js", status: 200, body: appJS, cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", vary: true},
		{name: "brotli preferred", path: "/assets/index-BtlwJ2Qs.js", accept: "gzip, deflate, br, zstd", status: 200, body: "brotli of app.js", cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", enc: "br", vary: true},
		{name: "gzip by q", path: "/assets/index-BtlwJ2Qs.js", accept: "br;q=0.5, gzip", status: 200, body: string(gz(appJS)), cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", enc: "gzip", vary: true},
		{name: "brotli refused", path: "/assets/index-BtlwJ2Qs.js", accept: "br;q=0", status: 200, body: appJS, cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", vary: true},
		{name: "star", path: "/assets/index-BtlwJ2Qs.js", accept: "*", status: 200, body: "brotli of app.js", cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", enc: "br", vary: true},
		{name: "no sibling", path: "/assets/style-3f2a1b9c.css", accept: "br, gzip", status: 200, body: "body{}", cache: CacheImmutable, ctype: "text/css; charset=utf-8"},
		{name: "plain file", path: "/favicon.ico", status: 200, body: "icon", cache: CacheRevalidate, ctype: "image/vnd.microsoft.icon"},
		{name: "directory index", path: "/docs/", status: 200, body: "docs", cache: CacheRevalidate, ctype: "text/html; charset=utf-8"},
		{name: "directory without slash", path: "/docs", status: 200, body: "docs", cache: CacheRevalidate, ctype: "text/html; charset=utf-8"},
		{name: "directory without index", path: "/empty", status: 200, body: indexHTML, cache: CacheRevalidate, ctype: "text/html; charset=utf-8", vary: true},
		{name: "missing asset", path: "/assets/index-AAAAAAAA.js", status: 404},
		{name: "missing asset with route", path: "/users/42/avatar.png", status: 404},
		{name: "traversal", path: "/../../etc/os-release.txt", status: 404},
		{name: "traversal route", path: "/../../etc", status: 200, body: indexHTML, cache: CacheRevalidate, ctype: "text/html; charset=utf-8", vary: true},
		{name: "health", path: "/healthz", status: 200, body: "ok\n", cache: "no-store", ctype: "text/plain; charset=utf-8"},
		{name: "head", method: "HEAD", path: "/assets/index-BtlwJ2Qs.js", status: 200, cache: CacheImmutable, ctype: "text/javascript; charset=utf-8", vary: true},
		{name: "post", method: "POST", path: "/", status: 405, body: "method not allowed\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			r := get(t, h, method, tc.path, "Accept-Encoding", tc.accept)
			b := body(t, r)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", r.StatusCode, tc.status, b)
			}
			if tc.status == 404 {
				return
			}
			if tc.body != "" || method == "GET" {
				if b != tc.body {
					t.Errorf("body %q, want %q", b, tc.body)
				}
			}
			if tc.status != 200 {
				return
			}
			check := map[string]string{"Cache-Control": tc.cache, "Content-Type": tc.ctype, "Content-Encoding": tc.enc}
			for k, want := range check {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if got := r.Header.Get("Vary") == "Accept-Encoding"; got != tc.vary {
				t.Errorf("Vary %q, want Accept-Encoding: %v", r.Header.Get("Vary"), tc.vary)
			}
			if tc.path != "/healthz" {
				if n, err := strconv.Atoi(r.Header.Get("Content-Length")); err != nil || (method == "GET" && n != len(tc.body)) {
					t.Errorf("Content-Length %q, want %d", r.Header.Get("Content-Length"), len(tc.body))
				}
				if r.Header.Get("ETag") == "" {
					t.Error("no ETag")
				}
			}
		})
	}
}

// Each representation has its own ETag, and a matching If-None-Match
// gets 304 for that representation only.
func TestETags(t *testing.T) {
	h := Handler(site(), "")
	plain := get(t, h, "GET", "/assets/index-BtlwJ2Qs.js").Header.Get("ETag")
	br := get(t, h, "GET", "/assets/index-BtlwJ2Qs.js", "Accept-Encoding", "br").Header.Get("ETag")
	gzipped := get(t, h, "GET", "/assets/index-BtlwJ2Qs.js", "Accept-Encoding", "gzip").Header.Get("ETag")
	if plain == br || plain == gzipped || br == gzipped || !strings.HasPrefix(plain, `"`) {
		t.Fatalf("ETags identity %s, br %s, gzip %s: want three distinct strong tags", plain, br, gzipped)
	}
	if r := get(t, h, "GET", "/assets/index-BtlwJ2Qs.js", "If-None-Match", plain); r.StatusCode != 304 {
		t.Errorf("If-None-Match with its ETag: status %d, want 304", r.StatusCode)
	}
	if r := get(t, h, "GET", "/assets/index-BtlwJ2Qs.js", "If-None-Match", plain, "Accept-Encoding", "br"); r.StatusCode != 200 {
		t.Errorf("If-None-Match with the identity ETag, asking for br: status %d, want 200", r.StatusCode)
	}
	// The health path off: it is a route like any other.
	if b := body(t, get(t, h, "GET", "/healthz")); b != indexHTML {
		t.Errorf("health off: /healthz served %q, want the index", b)
	}
}

// An empty root has nothing to fall back to.
func TestNoIndex(t *testing.T) {
	h := Handler(fstest.MapFS{"a.txt": {Data: []byte("a")}}, "/healthz")
	if r := get(t, h, "GET", "/route"); r.StatusCode != 404 {
		t.Errorf("route without index.html: status %d, want 404", r.StatusCode)
	}
	if r := get(t, h, "GET", "/a.txt"); r.StatusCode != 200 {
		t.Errorf("a.txt: status %d, want 200", r.StatusCode)
	}
}

// On a real directory behind os.Root, neither ".." nor a symbolic link
// reaches a file outside the root.
func TestRootConfinement(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.txt")
	root := filepath.Join(dir, "site")
	must(t, os.WriteFile(secret, []byte("SECRET"), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "index.html"), []byte(indexHTML), 0o644))
	must(t, os.Symlink(secret, filepath.Join(root, "assets", "abs.txt")))
	must(t, os.Symlink("../../secret.txt", filepath.Join(root, "assets", "rel.txt")))
	must(t, os.Symlink("..", filepath.Join(root, "up")))
	must(t, os.Symlink(secret, filepath.Join(root, "index.html.gz")))
	r, err := os.OpenRoot(root)
	must(t, err)
	defer r.Close()
	h := Handler(r.FS(), "/healthz")
	for _, p := range []string{"/assets/abs.txt", "/assets/rel.txt", "/up/secret.txt", "/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/", "/route"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = p
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), "SECRET") {
			t.Errorf("%s served the file outside the root (status %d)", p, rec.Code)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHashed(t *testing.T) {
	yes := []string{
		"assets/index-BtlwJ2Qs.js", "index-B-x_9aZq.js", "assets/index.3f2a1b9c.js", "logo-5d5d9eef.svg",
		"main.3b5c1d2e4f6a7b8c9d0e.js", "main.8c2f3a1b.chunk.js", "app-QXJ7WLS2.js", "vendor-abcdEfgh.css",
		"font-Ab12Cd34.woff2",
	}
	no := []string{
		"index.html", "favicon.ico", "robots.txt", "logo-original.png", "background.png", "apple-touch-icon.png",
		"bg-Original.png", "photo-ABCDEFGH.png", "manifest.webmanifest", "index-BtlwJ2Qs", "x-deadbeefdeadbeef.js",
		"-BtlwJ2Qs.js", "a-0123456789012345.js", "index-Btlw J2Q.js",
	}
	for _, n := range yes {
		if !Hashed(n) {
			t.Errorf("Hashed(%q) = false, want true", n)
		}
	}
	for _, n := range no {
		if Hashed(n) {
			t.Errorf("Hashed(%q) = true, want false", n)
		}
	}
}

func TestPreferred(t *testing.T) {
	both := func(string) bool { return true }
	gzOnly := func(s string) bool { return s == ".gz" }
	tests := []struct {
		header string
		have   func(string) bool
		want   string
	}{
		{"", both, ""},
		{"gzip, deflate, br", both, "br"},
		{"gzip;q=1.0, br;q=0.9", both, "gzip"},
		{"br;q=0, gzip;q=0", both, ""},
		{"BR", both, "br"},
		{"x-gzip", both, "gzip"},
		{"*;q=0.1, br;q=0", both, "gzip"},
		{"br", gzOnly, ""},
		{"br, gzip", gzOnly, "gzip"},
		{"identity", both, ""},
		{"br;q=2, gzip", both, "gzip"},
		{"br;q=abc", both, ""},
		{"br ; q = 0.5 , gzip ; q=0.4", both, "br"},
	}
	for _, tc := range tests {
		if got, _ := preferred(tc.header, tc.have); got != tc.want {
			t.Errorf("preferred(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}
