package static

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cache-Control values. index.html (and every page the SPA fallback
// answers) must be revalidated, or a deploy would not reach browsers that
// hold the old one; a hashed asset never changes under its name.
const (
	CacheImmutable  = "public, max-age=31536000, immutable"
	CacheRevalidate = "no-cache"
)

// Index is the page served for "/", for directories, and in place of
// unknown routes.
const Index = "index.html"

// Handler serves the files of fsys:
//   - GET and HEAD only; the health path answers 200 "ok";
//   - a file, or a directory's index.html, as it is; Cache-Control
//     CacheImmutable for hashed assets (see Hashed), CacheRevalidate for
//     the rest, with a strong ETag of the content served;
//   - the precompressed sibling NAME.br or NAME.gz when the client accepts
//     that encoding (Vary: Accept-Encoding whenever a sibling exists);
//   - a missing path whose last element has no extension (a route of the
//     application, "/users/42") gets index.html with 200, and a missing
//     path with one ("/assets/app-1a2b3c4d.js") 404, so a stale asset
//     never receives HTML.
//
// fsys is typically an os.Root's FS, which refuses every path that leaves
// the directory, through ".." or a symbolic link.
func Handler(fsys fs.FS, health string) http.Handler {
	return &handler{fsys: fsys, health: health, etags: map[string]etag{}}
}

type handler struct {
	fsys   fs.FS
	health string

	mu    sync.Mutex
	etags map[string]etag
}

// etag is a file's ETag, valid while its size and time are those it had.
type etag struct {
	size int64
	mod  time.Time
	tag  string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if h.health != "" && r.URL.Path == h.health {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
		return
	}
	name, page := resolve(h.fsys, r.URL.Path)
	if name == "" {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	h.serveFile(w, r, name, page)
}

// resolve maps a request path to the file to serve: the file itself, a
// directory's index.html, or for a route of the application the root's
// index.html (page is then true). It returns "" when nothing is to be
// served. The name it returns is always a valid fs.FS path inside the root.
func resolve(fsys fs.FS, urlPath string) (name string, page bool) {
	clean := path.Clean("/" + urlPath)
	name = strings.TrimPrefix(clean, "/")
	if name == "" {
		name = "."
	}
	if fs.ValidPath(name) && !strings.ContainsRune(name, 0) {
		if regular(fsys, name) {
			return name, false
		}
		if dir(fsys, name) {
			if idx := path.Join(name, Index); regular(fsys, idx) {
				return idx, false
			}
		}
	}
	if path.Ext(path.Base(clean)) != "" {
		return "", false
	}
	if regular(fsys, Index) {
		return Index, true
	}
	return "", false
}

func regular(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && fi.Mode().IsRegular()
}

func dir(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && fi.IsDir()
}

func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string, page bool) {
	hdr := w.Header()
	siblings := false
	for _, e := range encodings {
		if regular(h.fsys, name+e.suffix) {
			siblings = true
		}
	}
	encoding, suffix := "", ""
	if siblings {
		hdr.Set("Vary", "Accept-Encoding")
		encoding, suffix = preferred(r.Header.Get("Accept-Encoding"), func(s string) bool { return regular(h.fsys, name+s) })
	}
	f, err := h.fsys.Open(name + suffix)
	if err != nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || !ok || !fi.Mode().IsRegular() {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	tag, err := h.etag(name+suffix, rs, fi)
	if err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	cache := CacheRevalidate
	if !page && Hashed(name) && path.Ext(name) != ".html" {
		cache = CacheImmutable
	}
	hdr.Set("Cache-Control", cache)
	hdr.Set("Content-Type", contentType(name))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", tag)
	if encoding != "" {
		// ServeContent leaves out Content-Length for an encoded body, and
		// would take a range of it; a whole precompressed file has a known
		// length, and a server may ignore Range (RFC 9110, 14.2).
		hdr.Set("Content-Encoding", encoding)
		hdr.Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
		r.Header.Del("Range")
	}
	// ServeContent answers conditional and range requests and sets
	// Content-Length; with the ETag set it ignores the time.
	http.ServeContent(w, r, name, fi.ModTime(), rs)
}

// etag returns the strong ETag of a file's content (a precompressed
// sibling has its own, as RFC 9110 asks of each representation), hashing
// the file once while its size and time stay the same.
func (h *handler) etag(name string, rs io.ReadSeeker, fi fs.FileInfo) (string, error) {
	h.mu.Lock()
	e, ok := h.etags[name]
	h.mu.Unlock()
	if ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()) {
		return e.tag, nil
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := `"` + base64.RawURLEncoding.EncodeToString(sum.Sum(nil)[:18]) + `"`
	h.mu.Lock()
	h.etags[name] = etag{size: fi.Size(), mod: fi.ModTime(), tag: tag}
	h.mu.Unlock()
	return tag, nil
}

// types is the server's own table, so that a response does not depend on
// the mime.types of the machine it runs on (paved's minimal base has none).
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".cjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/vnd.microsoft.icon",
	".wasm":        "application/wasm",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".pdf":         "application/pdf",
	".mp4":         "video/mp4",
	".webm":        "video/webm",
	".mp3":         "audio/mpeg",
}

func contentType(name string) string {
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
