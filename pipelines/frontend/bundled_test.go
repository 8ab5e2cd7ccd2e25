package frontend

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/modules/node"
)

func TestProductionPackages(t *testing.T) {
	lock := `{"name":"app","lockfileVersion":3,"packages":{
		"":{"name":"app","dependencies":{"a":"1"}},
		"node_modules/a":{"version":"1.0.0"},
		"node_modules/@s/b":{"version":"2.0.0"},
		"node_modules/a/node_modules/c":{"version":"3.0.0"},
		"node_modules/fsevents":{"version":"2.3.3","optional":true},
		"node_modules/vite":{"version":"7.3.8","dev":true},
		"node_modules/@esbuild/linux-x64":{"version":"0.28.2","devOptional":true,"optional":true},
		"node_modules/linked":{"resolved":"packages/linked","link":true},
		"packages/linked":{"version":"0.1.0"}
	}}`
	got, err := productionPackages([]byte(lock))
	if err != nil {
		t.Fatal(err)
	}
	want := []bundledPackage{{Dir: "node_modules/@s/b"}, {Dir: "node_modules/a"}, {Dir: "node_modules/a/node_modules/c"}, {Dir: "node_modules/fsevents", Optional: true}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("package %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestProductionPackagesErrors(t *testing.T) {
	for lock, want := range map[string]string{
		`{"lockfileVersion":1,"dependencies":{}}`:                                "lockfileVersion 1",
		`{"lockfileVersion":3,"packages":{"node_modules/../../etc":{}}}`:         "not a clean relative path",
		`{"lockfileVersion":3,"packages":{"node_modules/@s":{}}}`:                "scope",
		`{"lockfileVersion":3,"packages":{"node_modules/a/b":{}}}`:               "not a package directory",
		`{"lockfileVersion":3,"packages":{"node_modules/a/node_modules/.x":{}}}`: "package name",
		`{"lockfileVersion":3,"packages":[]}`:                                    "package-lock.json",
		`not json`:                                                               "package-lock.json",
	} {
		if _, err := productionPackages([]byte(lock)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", lock, err, want)
		}
	}
}

// The example's lock file: escape-html is the one production package.
func TestExampleLock(t *testing.T) {
	b, err := os.ReadFile("../../examples/frontend/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := productionPackages(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Dir != "node_modules/escape-html" {
		t.Errorf("production packages %v, want node_modules/escape-html", got)
	}
}

// FuzzProductionPackages checks that no lock file, however written, yields
// a directory outside node_modules.
func FuzzProductionPackages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := productionPackages(data)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if !fs.ValidPath(p.Dir) || !strings.HasPrefix(p.Dir, "node_modules/") || strings.Contains("/"+p.Dir+"/", "/../") || checkPackageDir(p.Dir) != nil {
				t.Fatalf("unsafe package directory %q", p.Dir)
			}
		}
	})
}

// For pnpm the layer holds each production package's package.json at its
// real path in node_modules/.pnpm, not the development packages'.
func TestBundledLayerPnpm(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"app","dependencies":{"escape-html":"1.0.3"},"devDependencies":{"vite":"7"}}`)
	write("pnpm-lock.yaml", "lockfileVersion: '9.0'\n")
	write("node_modules/.pnpm/escape-html@1.0.3/node_modules/escape-html/package.json", `{"name":"escape-html","version":"1.0.3"}`)
	write("node_modules/.pnpm/vite@7.0.0/node_modules/vite/package.json", `{"name":"vite","version":"7.0.0"}`)
	for name, target := range map[string]string{"escape-html": ".pnpm/escape-html@1.0.3/node_modules/escape-html", "vite": ".pnpm/vite@7.0.0/node_modules/vite"} {
		if err := os.Symlink(target, filepath.Join(dir, "node_modules", name)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := bundledLayer(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range l.Files {
		got = append(got, f.Path)
	}
	want := []string{BundledDir + "/package.json", BundledDir + "/node_modules/.pnpm/escape-html@1.0.3/node_modules/escape-html/package.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("layer files %v, want %v", got, want)
	}

	// A production package that is not installed fails the build.
	os.RemoveAll(filepath.Join(dir, "node_modules", ".pnpm", "escape-html@1.0.3"))
	if _, err := bundledLayer(p); err == nil || !strings.Contains(err.Error(), "escape-html") {
		t.Errorf("error %v, want one naming escape-html", err)
	}
}
