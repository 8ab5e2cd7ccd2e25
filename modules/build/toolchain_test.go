package build

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func toolchainZip(t *testing.T, names ...string) *zip.Reader {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("content of " + n))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func TestToolchainLayer(t *testing.T) {
	const mod = "golang.org/toolchain@v0.0.1-go1.26.8.linux-arm64"
	zr := toolchainZip(t, mod+"/LICENSE", mod+"/bin/go", mod+"/pkg/tool/linux_arm64/compile", mod+"/src/fmt/print.go")
	entries, err := toolchainEntries(zr, mod)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayer(entries, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	modes := map[string]int64{}
	for _, f := range readLayer(t, l) {
		if f.Type == '0' {
			modes[f.Name] = f.Mode
			if want := "content of " + mod + "/" + strings.TrimPrefix(f.Name, "usr/local/go/"); string(f.data) != want {
				t.Errorf("%s holds %q", f.Name, f.data)
			}
		}
	}
	want := map[string]int64{
		"usr/local/go/LICENSE":                      0o644,
		"usr/local/go/bin/go":                       0o755,
		"usr/local/go/pkg/tool/linux_arm64/compile": 0o755,
		"usr/local/go/src/fmt/print.go":             0o644,
	}
	if diff := cmp.Diff(want, modes); diff != "" {
		t.Errorf("files and modes (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"golang.org/toolchain@v0.0.1-go1.26.7.linux-arm64/bin/go", mod + "/../etc/passwd", mod + "/a//b"} {
		if _, err := toolchainEntries(toolchainZip(t, bad), mod); err == nil {
			t.Errorf("entry %q accepted", bad)
		}
	}
}

func TestToolchainSettings(t *testing.T) {
	if got := ToolchainVersion("go1.26.8", arm64); got != "v0.0.1-go1.26.8.linux-arm64" {
		t.Errorf("ToolchainVersion = %q", got)
	}
	for _, v := range []string{"go1.26.8", "go1.27rc1", "go1.26"} {
		if err := ValidToolchain(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	for _, v := range []string{"", "1.26.8", "go1.26.8 ", "go1.26.8/../x", "latest"} {
		if err := ValidToolchain(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
	env := toolchainEnv([]string{defaultPath, "GOFLAGS=-mod=mod"})
	want := []string{"PATH=/usr/local/go/bin:" + strings.TrimPrefix(defaultPath, "PATH="), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "HOME=/home/nonroot"}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}
