package test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
)

// TestRunCompilesWhatVetAndTheBuildUse checks that go test, go vet and the
// image's build compile with the same flags: with an empty Go cache, go vet
// then compiles nothing and the build only the main package (go test's
// copy carries coverage counters). With any flag apart (cgo, -trimpath,
// debug information), each would compile every dependency again; os/user
// is one that cgo changes.
func TestRunCompilesWhatVetAndTheBuildUse(t *testing.T) {
	gocache := t.TempDir()
	t.Setenv("GOCACHE", gocache)
	t.Setenv("CGO_ENABLED", "1")
	dir := writeModule(t, map[string]string{
		"main.go":      "package main\n\nimport (\n\t\"fmt\"\n\t\"os/user\"\n)\n\nfunc who() string {\n\tu, err := user.Current()\n\tif err != nil {\n\t\treturn err.Error()\n\t}\n\treturn u.Username\n}\n\nfunc main() {\n\tfmt.Println(who())\n}\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestWho(t *testing.T) {\n\tif who() == \"\" {\n\t\tt.Fatal(\"no one\")\n\t}\n}\n",
	})
	archives := func() map[string]bool {
		t.Helper()
		m := map[string]bool{}
		err := filepath.WalkDir(gocache, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, "-d") {
				return err
			}
			b := make([]byte, 8)
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if n, _ := f.Read(b); string(b[:n]) == "!<arch>\n" {
				m[path] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	added := func(before, after map[string]bool) int {
		n := 0
		for p := range after {
			if !before[p] {
				n++
			}
		}
		return n
	}

	if _, err := run(t, dir, Options{SkipVet: true}); err != nil {
		t.Fatal(err)
	}
	tested := archives()
	if len(tested) < 20 {
		t.Fatalf("go test left %d archives in the cache; want the dependencies'", len(tested))
	}
	if _, err := run(t, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	vetted := archives()
	if n := added(tested, vetted); n != 0 {
		t.Errorf("go vet compiled %d packages go test had compiled", n)
	}
	host := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if _, err := build.Compile(context.Background(), build.Options{Dir: dir, Env: fixtureEnv}, host, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if n := added(vetted, archives()); n != 1 {
		t.Errorf("the build compiled %d packages; want 1, the main package without coverage counters", n)
	}
}
