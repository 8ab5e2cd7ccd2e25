package static

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name    string
		args    []string
		env     func(string) (string, bool)
		want    Config
		wantErr string
	}{
		{name: "defaults", args: []string{"--root", "dist"}, env: env(), want: Config{Port: 8080, Root: "dist", Health: "/healthz", Shutdown: 10 * time.Second}},
		{name: "environment", env: env("PORT", "9000", "PAVED_STATIC_ROOT", "/app/site", "PAVED_STATIC_HEALTH", "/ready"), want: Config{Port: 9000, Root: "/app/site", Health: "/ready", Shutdown: 10 * time.Second}},
		{name: "flags win", args: []string{"--port=81", "--root=x", "--health=/h", "--shutdown-timeout=1s"}, env: env("PORT", "9000", "PAVED_STATIC_ROOT", "/app/site"), want: Config{Port: 81, Root: "x", Health: "/h", Shutdown: time.Second}},
		{name: "health off", env: env("PAVED_STATIC_ROOT", "r", "PAVED_STATIC_HEALTH", ""), want: Config{Port: 8080, Root: "r", Shutdown: 10 * time.Second}},
		{name: "no root", env: env(), wantErr: "--root (or $PAVED_STATIC_ROOT) is required"},
		{name: "bad port env", env: env("PORT", "http"), wantErr: `$PORT: "http" is not a port number`},
		{name: "bad port flag", args: []string{"--root=r", "--port=70000"}, env: env(), wantErr: `--port: "70000" is not a port number`},
		{name: "bad health", args: []string{"--root=r", "--health=healthz"}, env: env(), wantErr: `--health: "healthz" is not a path`},
		{name: "argument", args: []string{"--root=r", "extra"}, env: env(), wantErr: `unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"--listen=:80"}, env: env(), wantErr: "flag provided but not defined: -listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.args, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// The command's file is the source paved compiles into images.
func TestMainSource(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "cmd", "paved-static", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != MainSource {
		t.Errorf("cmd/paved-static/main.go differs from MainSource; make them equal")
	}
}

// Every non-test file of the package is embedded, or the module
// WriteSource writes would not compile (or would miss a fix).
func TestSourceComplete(t *testing.T) {
	src, err := Source()
	if err != nil {
		t.Fatal(err)
	}
	var embedded, onDisk []string
	for name := range src {
		if after, ok := strings.CutPrefix(name, "modules/build/static/"); ok {
			embedded = append(embedded, after)
		}
	}
	ents, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			onDisk = append(onDisk, n)
		}
	}
	sort.Strings(embedded)
	sort.Strings(onDisk)
	if fmt.Sprint(embedded) != fmt.Sprint(onDisk) {
		t.Errorf("embedded %v, package has %v: list every file in source.go's go:embed", embedded, onDisk)
	}
}

// serverBinary compiles the server from the source paved embeds, as the
// frontend path does: a module with no dependency, built offline.
func serverBinary(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	if err := WriteSource(src); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), Binary)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, MainPackage)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the embedded source: %v\n%s", err, out)
	}
	return bin
}

// TestServerProcess runs the compiled server: it serves a real directory,
// and on SIGTERM finishes the response in flight before it exits 0.
func TestServerProcess(t *testing.T) {
	bin := serverBinary(t)
	root := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB: far more than the socket buffers hold
	must(t, os.WriteFile(filepath.Join(root, "index.html"), []byte(indexHTML), 0o644))
	must(t, os.MkdirAll(filepath.Join(root, "assets"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "assets", "big-0a1b2c3d.bin"), big, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--port", "0")
	cmd.Env = append(os.Environ(), "PAVED_STATIC_ROOT="+root, "PAVED_STATIC_HEALTH=/health")
	stderr, err := cmd.StderrPipe()
	must(t, err)
	must(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() {
		t.Fatalf("server said nothing: %v", lines.Err())
	}
	first := lines.Text()
	_, addr, ok := strings.Cut(first, " on ")
	if !ok {
		t.Fatalf("first line %q does not say where it listens", first)
	}
	_, port, err := net.SplitHostPort(addr)
	must(t, err)
	base := "http://127.0.0.1:" + port
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()

	for path, want := range map[string]string{"/health": "ok\n", "/some/route": indexHTML} {
		resp, err := http.Get(base + path)
		must(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, b, want)
		}
	}

	// Start a large download, read a little of it, then ask the server to
	// stop: the rest must still arrive.
	resp, err := http.Get(base + "/assets/big-0a1b2c3d.bin")
	must(t, err)
	defer resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != CacheImmutable {
		t.Errorf("Cache-Control %q, want %q", cc, CacheImmutable)
	}
	head := make([]byte, 4096)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatal(err)
	}
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	tail, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("download cut by shutdown: %v", err)
	}
	if got := append(head, tail...); !bytes.Equal(got, big) {
		t.Errorf("downloaded %d bytes, want %d", len(got), len(big))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("server exited with %v after SIGTERM, want 0\n%s", err, <-rest)
	}
	if out := <-rest; !strings.Contains(out, "shutting down") {
		t.Errorf("no shutdown message: %q", out)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("server still answers after exiting")
	}
}

// A bad flag is exit 2 naming the flag.
func TestServerBadFlag(t *testing.T) {
	bin := serverBinary(t)
	cmd := exec.Command(bin, "--root", t.TempDir(), "--port", "99999")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--port") {
		t.Fatalf("exit %v, output %q: want 2 naming --port", err, out)
	}
}
