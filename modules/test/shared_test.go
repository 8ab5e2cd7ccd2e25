package test

import (
	"context"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/internal/testtools/gocache"
	"github.com/pavedhq/paved/modules/build"
)

// TestRunCompilesWhatVetAndTheBuildUse checks that go test, go vet and the
// image's build compile with the same flags: with an empty Go cache, go vet
// then compiles nothing and the build only the main package (go test's
// copy carries coverage counters). With any flag apart (cgo, -trimpath,
// debug information), each would compile every dependency again; os/user
// is one that cgo changes.
func TestRunCompilesWhatVetAndTheBuildUse(t *testing.T) {
	cachedir := t.TempDir()
	t.Setenv("GOCACHE", cachedir)
	t.Setenv("CGO_ENABLED", "1")
	dir := writeModule(t, map[string]string{
		"main.go":      "package main\n\nimport (\n\t\"fmt\"\n\t\"os/user\"\n)\n\nfunc who() string {\n\tu, err := user.Current()\n\tif err != nil {\n\t\treturn err.Error()\n\t}\n\treturn u.Username\n}\n\nfunc main() {\n\tfmt.Println(who())\n}\n",
		"main_test.go": "package main\n\nimport \"testing\"\n\nfunc TestWho(t *testing.T) {\n\tif who() == \"\" {\n\t\tt.Fatal(\"no one\")\n\t}\n}\n",
	})
	if _, err := run(t, dir, Options{SkipVet: true}); err != nil {
		t.Fatal(err)
	}
	tested := gocache.Archives(t, cachedir)
	if len(tested) < 20 {
		t.Fatalf("go test left %d archives in the cache; want the dependencies'", len(tested))
	}
	if _, err := run(t, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	vetted := gocache.Archives(t, cachedir)
	if n := gocache.Added(tested, vetted); n != 0 {
		t.Errorf("go vet compiled %d packages go test had compiled", n)
	}
	host := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if _, err := build.Compile(context.Background(), build.Options{Dir: dir, Env: fixtureEnv}, host, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if n := gocache.Added(vetted, gocache.Archives(t, cachedir)); n != 1 {
		t.Errorf("the build compiled %d packages; want 1, the main package without coverage counters", n)
	}
}
