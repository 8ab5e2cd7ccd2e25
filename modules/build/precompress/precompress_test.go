package precompress

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
)

func TestDir(t *testing.T) {
	dir := t.TempDir()
	js := strings.Repeat("export const a = 'hello';\n", 100)
	write := func(name, s string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", strings.Repeat("<p>hi</p>", 100))
	write("assets/app-Ab12Cd34.js", js)
	write("assets/tiny.css", "a{}")
	write("assets/logo.png", strings.Repeat("x", 1000))
	write("assets/kept.js", js)
	write("assets/kept.js.br", "the build's own")
	write("random.txt", randomText(2000))

	st, err := Dir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 3 || st.Written != 5 || st.Kept != 1 {
		t.Errorf("stats %+v, want 3 files, 5 written, 1 kept", st)
	}
	for _, name := range []string{"index.html.gz", "index.html.br", "assets/app-Ab12Cd34.js.gz", "assets/app-Ab12Cd34.js.br", "assets/kept.js.gz"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, name := range []string{"assets/tiny.css.gz", "assets/logo.png.gz", "assets/logo.png.br", "random.txt.gz", "random.txt.br"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s written; want none (too small, not compressible, or not smaller)", name)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "assets/kept.js.br")); string(b) != "the build's own" {
		t.Errorf("the build's own sibling was replaced: %q", b)
	}
	// Round trips.
	gz, _ := os.ReadFile(filepath.Join(dir, "assets/app-Ab12Cd34.js.gz"))
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(zr); string(got) != js || zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("gzip: content equal %v, header name %q time %v", string(got) == js, zr.Header.Name, zr.Header.ModTime)
	}
	br, _ := os.ReadFile(filepath.Join(dir, "assets/app-Ab12Cd34.js.br"))
	if got, _ := io.ReadAll(brotli.NewReader(bytes.NewReader(br))); string(got) != js {
		t.Error("brotli does not round-trip")
	}
	// Twice the same bytes.
	again, _ := Brotli([]byte(js))
	if !bytes.Equal(again, br) {
		t.Error("brotli output differs between runs")
	}
	g2, _ := Gzip([]byte(js))
	if !bytes.Equal(g2, gz) {
		t.Error("gzip output differs between runs")
	}
	// A second pass keeps what the first wrote.
	st, err = Dir(context.Background(), dir)
	if err != nil || st.Written != 0 {
		t.Errorf("second pass: %+v, %v; want nothing written", st, err)
	}
}

// randomText is incompressible bytes in a text file's name: the sibling
// would not be smaller, so none is written.
func randomText(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte(byte(x))
	}
	return b.String()
}
