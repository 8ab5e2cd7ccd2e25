package goservice

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/runner"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// keyFixture is a service whose go.mod replaces a library outside it, in
// a checkout with room for a go.work above the service.
func keyFixture(t *testing.T) (top, svc string) {
	top = t.TempDir()
	writeFiles(t, top, map[string]string{
		"svc/go.mod":      "module example.com/svc\n\ngo 1.22\n\nreplace example.com/lib => ../lib\n",
		"svc/main.go":     "package main\n\nfunc main() {}\n",
		"lib/go.mod":      "module example.com/lib\n\ngo 1.22\n",
		"lib/lib.go":      "package lib\n",
		"other/go.mod":    "module example.com/other\n\ngo 1.22\n",
		"other/other.go":  "package other\n",
		"other/.git/HEAD": "ref: refs/heads/main\n",
	})
	return top, filepath.Join(top, "svc")
}

func testKey(t *testing.T, svc string, env ...string) string {
	t.Helper()
	s := &testStep{opts: test.Options{Dir: svc, Packages: []string{"./..."}}, env: env}
	k, err := s.Key(context.Background(), runner.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func buildKey(t *testing.T, svc string) string {
	t.Helper()
	k, err := sourceKey(context.Background(), "build/v1", svc)
	if err != nil {
		t.Fatal(err)
	}
	return k.Sum()
}

// Each input that changes what go builds or what the tests see changes the
// key; what does not, does not.
func TestStepKeyInputs(t *testing.T) {
	// A clean slate: none of the keyed variables set, no go env file.
	for _, k := range goEnvKeys {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("GOENV", filepath.Join(t.TempDir(), "env"))
	t.Setenv("DATABASE_URL", "postgres://u:secret@db/x")

	for _, tc := range []struct {
		name    string
		change  func(t *testing.T, top, svc string)
		changes bool
	}{
		{"nothing", func(*testing.T, string, string) {}, false},
		{"unrelated variable", func(t *testing.T, _, _ string) { t.Setenv("PAVED_UNRELATED", "1"); t.Setenv("HOME", t.TempDir()) }, false},
		{"GOFLAGS", func(t *testing.T, _, _ string) { t.Setenv("GOFLAGS", "-tags=integration") }, true},
		{"CGO_ENABLED", func(t *testing.T, _, _ string) { t.Setenv("CGO_ENABLED", "1") }, true},
		{"GOEXPERIMENT", func(t *testing.T, _, _ string) { t.Setenv("GOEXPERIMENT", "jsonv2") }, true},
		{"GOAMD64", func(t *testing.T, _, _ string) { t.Setenv("GOAMD64", "v3") }, true},
		{"GOARM64", func(t *testing.T, _, _ string) { t.Setenv("GOARM64", "v8.2") }, true},
		{"GODEBUG", func(t *testing.T, _, _ string) { t.Setenv("GODEBUG", "x509sha1=1") }, true},
		{"GOFIPS140", func(t *testing.T, _, _ string) { t.Setenv("GOFIPS140", "latest") }, true},
		{"set but empty", func(t *testing.T, _, _ string) { t.Setenv("GOFLAGS", "") }, true},
		{"go env -w", func(t *testing.T, _, _ string) {
			writeFiles(t, filepath.Dir(os.Getenv("GOENV")), map[string]string{"env": "GOFLAGS=-mod=mod\n"})
		}, true},
		{"replaced directory changes", func(t *testing.T, top, _ string) {
			writeFiles(t, top, map[string]string{"lib/lib.go": "package lib\n\nconst X = 1\n"})
		}, true},
		{"replaced directory gains a file", func(t *testing.T, top, _ string) { writeFiles(t, top, map[string]string{"lib/x/x.go": "package x\n"}) }, true},
		{"replaced directory's ignored folder", func(t *testing.T, top, _ string) { writeFiles(t, top, map[string]string{"lib/.git/HEAD": "x\n"}) }, false},
		{"unreferenced directory", func(t *testing.T, top, _ string) {
			writeFiles(t, top, map[string]string{"other/other.go": "package other\n\nconst Y = 2\n"})
		}, false},
		{"go.work above the service", func(t *testing.T, top, _ string) {
			writeFiles(t, top, map[string]string{"go.work": "go 1.22\n\nuse (\n\t./svc\n\t./other\n)\n"})
		}, true},
		{"GOWORK names a workspace", func(t *testing.T, top, _ string) {
			writeFiles(t, top, map[string]string{"ws/go.work": "go 1.22\n\nuse ../svc\n"})
			t.Setenv("GOWORK", filepath.Join(top, "ws", "go.work"))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top, svc := keyFixture(t)
			beforeTest, beforeBuild := testKey(t, svc), buildKey(t, svc)
			tc.change(t, top, svc)
			afterTest, afterBuild := testKey(t, svc), buildKey(t, svc)
			if (beforeTest != afterTest) != tc.changes || (beforeBuild != afterBuild) != tc.changes {
				t.Fatalf("test key changed %v, build key changed %v; want %v", beforeTest != afterTest, beforeBuild != afterBuild, tc.changes)
			}
		})
	}
}

// In a workspace, the modules it uses and its go.work.sum are inputs too,
// and GOWORK=off leaves the workspace.
func TestStepKeyWorkspace(t *testing.T) {
	t.Setenv("GOWORK", "")
	top, svc := keyFixture(t)
	writeFiles(t, top, map[string]string{"go.work": "go 1.22\n\nuse (\n\t./svc\n\t./other\n)\n"})
	k0 := testKey(t, svc)
	writeFiles(t, top, map[string]string{"other/other.go": "package other\n\nconst Y = 2\n"})
	k1 := testKey(t, svc)
	if k0 == k1 {
		t.Fatal("a change in a module the workspace uses left the key unchanged")
	}
	writeFiles(t, top, map[string]string{"go.work.sum": "example.com/x v1.0.0 h1:abc=\n"})
	k2 := testKey(t, svc)
	if k2 == k1 {
		t.Fatal("go.work.sum is not in the key")
	}
	t.Setenv("GOWORK", "off")
	if testKey(t, svc) == k2 {
		t.Fatal("GOWORK=off left the key unchanged")
	}
}

// The variables paved.yaml says the tests read key the test step by value;
// others do not.
func TestStepKeyTestEnv(t *testing.T) {
	_, svc := keyFixture(t)
	t.Setenv("DATABASE_URL", "postgres://u:one@db/x")
	t.Setenv("UNDECLARED", "a")
	k0 := testKey(t, svc, "DATABASE_URL")
	t.Setenv("UNDECLARED", "b")
	if testKey(t, svc, "DATABASE_URL") != k0 {
		t.Fatal("an undeclared variable changed the key")
	}
	t.Setenv("DATABASE_URL", "postgres://u:two@db/x")
	if testKey(t, svc, "DATABASE_URL") == k0 {
		t.Fatal("a declared variable's value did not change the key")
	}
	if testKey(t, svc) == testKey(t, svc, "DATABASE_URL") {
		t.Fatal("declaring a variable did not change the key")
	}
}
