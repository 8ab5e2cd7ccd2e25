package build

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// dataMain prints its version variables and the file its argument names
// under $KO_DATA_PATH, as a service reading its static assets would.
const dataMain = `package main

import (
	"fmt"
	"os"
	"path/filepath"
)

var version, commit, date = "dev", "none", "unknown"

func main() {
	fmt.Printf("version=%s commit=%s date=%s\n", version, commit, date)
	if len(os.Args) > 1 {
		b, err := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), os.Args[1]))
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	}
}
`

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// extractImage writes img's filesystem under a new directory, modes kept.
func extractImage(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range readLayer(t, flatten(t, img)) {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if f.Type == '5' {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, fs.FileMode(f.Mode)&0o777|0o200); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func requireAMD64Host(t *testing.T) {
	if !platformMatches(amd64, hostPlatform()) {
		t.Skipf("runs the image's linux/amd64 binary, the host is %s", hostPlatform())
	}
}

// A service under cmd/NAME with kodata/ beside its main and a files: list:
// the binary, run from the extracted image, reads its asset through
// KO_DATA_PATH; the files land where and with the modes asked; the -X
// templates reach the binary.
func TestGoStaticFilesAndLdflags(t *testing.T) {
	requireAMD64Host(t)
	ctx := context.Background()
	dir := fixture(t, "package hello\n")
	writeTree(t, dir, map[string]string{
		"cmd/api/main.go":              dataMain,
		"cmd/api/kodata/greeting.txt":  "hello from kodata\n",
		"cmd/api/kodata/sub/deep.json": "{}\n",
		"web/static/app.css":           "body{}\n",
		"web/static/app.js":            "1\n",
		"web/static/img/logo.svg":      "<svg/>\n",
		"scripts/run.sh":               "#!/bin/sh\n",
		"LICENSE":                      "MIT\n",
	})
	main, err := FindMain(dir)
	if err != nil || main != "./cmd/api" {
		t.Fatalf("FindMain = %q, %v; want ./cmd/api", main, err)
	}
	data := NewLdflagsData("1.4.2", "0123456789abcdef0123456789abcdef01234567", created, []string{"BUILDER=ci-42"})
	ldflags, err := RenderLdflags([]string{"-X main.version={{.Version}} -X main.commit={{.ShortCommit}}", "-X main.date={{.Date}}/{{.Env.BUILDER}}"}, data)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: dir, Main: main, Created: created, Platforms: []v1.Platform{amd64}, Env: offlineEnv, Ldflags: ldflags,
		Files: []FileGlob{
			{Source: "web/static/*", Dest: "/srv/static/"},
			{Source: "LICENSE", Dest: "/licenses/LICENSE", Mode: 0o600},
			{Source: "scripts", Dest: "/opt/scripts"},
		}}
	idx, err := Go(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, idx)
	img := imageFor(t, idx, amd64)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(cf.Config.Entrypoint, []string{"/app/api"}) {
		t.Errorf("entrypoint = %v, want [/app/api]", cf.Config.Entrypoint)
	}
	if !containsString(cf.Config.Env, "KO_DATA_PATH=/var/run/ko") {
		t.Errorf("env %v lacks KO_DATA_PATH=/var/run/ko", cf.Config.Env)
	}

	// The static files' layer: one, below the binary, fixed times and owners.
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 3 {
		t.Fatalf("%d layers, want base, static files, binary", len(layers))
	}
	got := map[string]int64{}
	for _, f := range readLayer(t, layers[1]) {
		if !f.ModTime.Equal(created) || f.Uid != 0 || f.Gid != 0 || f.Uname != "" {
			t.Errorf("%s: mtime %s, owner %d:%d %q", f.Name, f.ModTime, f.Uid, f.Gid, f.Uname)
		}
		if f.Type != '5' {
			got[f.Name] = f.Mode
		}
	}
	want := map[string]int64{
		"var/run/ko/greeting.txt":  0o555, // ko's mode
		"var/run/ko/sub/deep.json": 0o555,
		"srv/static/app.css":       0o644,
		"srv/static/app.js":        0o644,
		"srv/static/img/logo.svg":  0o644,
		"licenses/LICENSE":         0o600,
		"opt/scripts/run.sh":       0o755, // executable in the checkout
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("static files (-want +got):\n%s", diff)
	}

	root := extractImage(t, img)
	cmd := exec.Command(filepath.Join(root, "app", "api"), "greeting.txt")
	// The image's KO_DATA_PATH, under the directory the image was extracted to.
	cmd.Env = []string{"KO_DATA_PATH=" + filepath.Join(root, "var/run/ko")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the image's binary: %v\n%s", err, out)
	}
	wantOut := "version=1.4.2 commit=0123456 date=2024-05-06T07:08:09Z/ci-42\nhello from kodata\n"
	if string(out) != wantOut {
		t.Errorf("binary printed %q, want %q", out, wantOut)
	}

	// Same inputs, same digest; a changed asset changes it.
	again, err := Go(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := digestOf(t, idx), digestOf(t, again); a != b {
		t.Errorf("two builds differ: %s, %s", a, b)
	}
	writeTree(t, dir, map[string]string{"cmd/api/kodata/greeting.txt": "hello again\n"})
	changed, err := Go(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, idx) == digestOf(t, changed) {
		t.Error("changing a kodata file left the digest as it was")
	}
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Without kodata or files: no layer and no KO_DATA_PATH, so images of
// services that use neither are what they were.
func TestGoNoStaticFiles(t *testing.T) {
	dir := fixture(t, fixtureMain)
	idx, err := Go(context.Background(), Options{Dir: dir, Platforms: []v1.Platform{amd64}, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	img := imageFor(t, idx, amd64)
	layers, _ := img.Layers()
	cf, _ := img.ConfigFile()
	if len(layers) != 2 {
		t.Errorf("%d layers, want base and binary", len(layers))
	}
	for _, e := range cf.Config.Env {
		if strings.HasPrefix(e, "KO_DATA_PATH=") {
			t.Errorf("env has %s without a kodata directory", e)
		}
	}
}

func TestStaticFilesErrors(t *testing.T) {
	dir := fixture(t, fixtureMain)
	writeTree(t, dir, map[string]string{"static/a.txt": "a", "static/b.txt": "b", "kodata/x": "x", "other/a.txt": "other a"})
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret": "s"})
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "static", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		files   []FileGlob
		wantErr string
	}{
		{"no match", []FileGlob{{Source: "static/*.css", Dest: "/srv/"}}, `files[0].src "static/*.css": matches no file`},
		{"bad glob", []FileGlob{{Source: "static/[", Dest: "/srv/"}}, `files[0]: src: "static/[": syntax error in pattern`},
		{"leaves the service", []FileGlob{{Source: "../x", Dest: "/srv/"}}, `files[0]: src: "../x": want a path inside the service`},
		{"absolute src", []FileGlob{{Source: "/etc/passwd", Dest: "/srv/"}}, `files[0]: src: "/etc/passwd"`},
		{"relative dst", []FileGlob{{Source: "static/a.txt", Dest: "srv/a"}}, `files[0]: dst: "srv/a": want an absolute path`},
		{"root dst", []FileGlob{{Source: "static/a.txt", Dest: "/"}}, `files[0]: dst: "/": name a directory below /`},
		{"setuid", []FileGlob{{Source: "static/a.txt", Dest: "/a", Mode: fs.ModeSetuid | 0o755}}, "files[0]: mode"},
		{"link out of the service", []FileGlob{{Source: "static/link", Dest: "/x"}}, "static/link: path escapes from parent"},
		{"dir link out of the service", []FileGlob{{Source: "linkdir/secret", Dest: "/x"}}, "linkdir/secret: path escapes from parent"},
		{"two sources, one path", []FileGlob{{Source: "static/a.txt", Dest: "/srv/"}, {Source: "other/a.txt", Dest: "/srv/"}}, "files[1]: /srv/a.txt would be both static/a.txt and other/a.txt"},
		{"over kodata", []FileGlob{{Source: "other/a.txt", Dest: "/var/run/ko/x"}}, "files[0]: /var/run/ko/x would be both kodata/x and other/a.txt"},
		{"file as a directory", []FileGlob{{Source: "static/a.txt", Dest: "/srv/x"}, {Source: "static/b.txt", Dest: "/srv/x/b"}}, "/srv/x is a file (from static/a.txt), and /srv/x/b would be inside it"},
		{"over the binary", []FileGlob{{Source: "static/a.txt", Dest: "/app/hello"}}, "in the way of the binary hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Go(context.Background(), Options{Dir: dir, Files: tt.files, Platforms: []v1.Platform{amd64}, Env: offlineEnv})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), outside) {
				t.Errorf("the error names the outside directory: %v", err)
			}
		})
	}
}

func TestFindMain(t *testing.T) {
	lib := "package hello\n"
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		wantErr any
	}{
		{"root", map[string]string{"main.go": fixtureMain, "cmd/x/main.go": fixtureMain}, ".", nil},
		{"one under cmd", map[string]string{"main.go": lib, "cmd/srv/main.go": fixtureMain, "cmd/lib/lib.go": "package lib\n"}, "./cmd/srv", nil},
		{"main only in tests", map[string]string{"main.go": lib, "cmd/a/a_test.go": "package main\n", "cmd/b/main.go": fixtureMain}, "./cmd/b", nil},
		{"two under cmd", map[string]string{"main.go": lib, "cmd/b/main.go": fixtureMain, "cmd/a/main.go": fixtureMain}, "", &ManyMainsError{Candidates: []string{"./cmd/a", "./cmd/b"}}},
		{"none", map[string]string{"main.go": lib}, "", &NoMainError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"go.mod": "module example.com/hello\n\ngo 1.22\n"})
			writeTree(t, dir, tt.files)
			got, err := FindMain(dir)
			switch want := tt.wantErr.(type) {
			case nil:
				if err != nil || got != tt.want {
					t.Fatalf("FindMain = %q, %v; want %q", got, err, tt.want)
				}
			case *ManyMainsError:
				var me *ManyMainsError
				if !errors.As(err, &me) {
					t.Fatalf("err = %v, want a ManyMainsError", err)
				}
				if diff := cmp.Diff(want.Candidates, me.Candidates); diff != "" {
					t.Errorf("candidates (-want +got):\n%s", diff)
				}
			case *NoMainError:
				var ne *NoMainError
				if !errors.As(err, &ne) {
					t.Fatalf("err = %v, want a NoMainError", err)
				}
			}
		})
	}
}
