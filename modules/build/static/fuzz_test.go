package static

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzRoot is a site with files outside it that a request must never reach:
// a secret beside the root and symbolic links pointing at it.
func fuzzRoot(f *testing.F) *os.Root {
	dir := f.TempDir()
	root := filepath.Join(dir, "site")
	write := func(p, s string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	write(filepath.Join(dir, "secret.txt"), "SECRET")
	write(filepath.Join(root, "index.html"), indexHTML)
	write(filepath.Join(root, "index.html.br"), "br of index")
	write(filepath.Join(root, "assets", "index-BtlwJ2Qs.js"), appJS)
	write(filepath.Join(root, "assets", "index-BtlwJ2Qs.js.gz"), "gz of app")
	for _, l := range [][2]string{
		{filepath.Join(dir, "secret.txt"), "abs.txt"},
		{"../secret.txt", "rel.txt"},
		{"..", "up"},
		{"../secret.txt", "assets/x.js.br"},
	} {
		if err := os.Symlink(l[0], filepath.Join(root, l[1])); err != nil {
			f.Fatal(err)
		}
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	return r
}

// FuzzServe checks, for any path and Accept-Encoding, that nothing outside
// the root is served, that an encoded response is the sibling file and
// that only hashed assets are cached for good.
func FuzzServe(f *testing.F) {
	root := fuzzRoot(f)
	h := Handler(root.FS(), "/healthz")
	f.Fuzz(func(t *testing.T, path, accept string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		req.Header.Set("Accept-Encoding", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if strings.Contains(body, "SECRET") {
			t.Fatalf("%q served a file outside the root", path)
		}
		switch rec.Code {
		case 200, 404:
		default:
			t.Fatalf("%q: status %d", path, rec.Code)
		}
		if rec.Code != 200 {
			return
		}
		enc := rec.Header().Get("Content-Encoding")
		switch {
		case enc == "br" && body != "br of index":
			t.Fatalf("%q (%q): br body %q", path, accept, body)
		case enc == "gzip" && body != "gz of app":
			t.Fatalf("%q (%q): gzip body %q", path, accept, body)
		case enc != "" && enc != "br" && enc != "gzip":
			t.Fatalf("%q (%q): Content-Encoding %q", path, accept, enc)
		}
		if enc != "" {
			if q := accepted(accept); q[enc] <= 0 && q["*"] <= 0 && !(enc == "gzip" && q["x-gzip"] > 0) {
				t.Fatalf("%q: served %s, which %q does not accept", path, enc, accept)
			}
		}
		if rec.Header().Get("Cache-Control") == CacheImmutable && body != appJS && body != "gz of app" {
			t.Fatalf("%q: immutable caching for %q", path, body)
		}
	})
}

// FuzzAcceptEncoding checks the header parser on any input: it never picks
// an encoding the client refused or the server lacks.
func FuzzAcceptEncoding(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string, haveBr, haveGz bool) {
		have := func(s string) bool { return (s == ".br" && haveBr) || (s == ".gz" && haveGz) }
		name, suffix := preferred(header, have)
		if name == "" {
			if suffix != "" {
				t.Fatalf("no encoding but suffix %q", suffix)
			}
			return
		}
		if !have(suffix) {
			t.Fatalf("%q: picked %s, which the server lacks", header, name)
		}
		q := accepted(header)
		w, ok := q[name]
		if !ok && name == "gzip" {
			w, ok = q["x-gzip"]
		}
		if !ok {
			w = q["*"]
		}
		if w <= 0 {
			t.Fatalf("%q: picked %s with q=%v", header, name, w)
		}
	})
}

// FuzzHashed checks the hashed-name rule on any name: it never panics,
// and a hashed name always has an extension.
func FuzzHashed(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		if Hashed(name) && filepath.Ext(name) == "" {
			t.Fatalf("Hashed(%q) without an extension", name)
		}
	})
}
