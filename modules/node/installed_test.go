package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePackage writes dir/package.json for name@version with deps, each
// "name" (a dependency), "?name" (optional) or "^name" (peer).
func writePackage(t *testing.T, dir, name, version string, deps ...string) {
	t.Helper()
	var d, o, p []string
	for _, dep := range deps {
		switch {
		case strings.HasPrefix(dep, "?"):
			o = append(o, fmt.Sprintf("%q:\"*\"", dep[1:]))
		case strings.HasPrefix(dep, "^"):
			p = append(p, fmt.Sprintf("%q:\"*\"", dep[1:]))
		default:
			d = append(d, fmt.Sprintf("%q:\"*\"", dep))
		}
	}
	body := fmt.Sprintf(`{"name":%q,"version":%q,"dependencies":{%s},"optionalDependencies":{%s},"peerDependencies":{%s}}`,
		name, version, strings.Join(d, ","), strings.Join(o, ","), strings.Join(p, ","))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, at string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, at); err != nil {
		t.Fatal(err)
	}
}

func listed(pkgs []InstalledPackage) string {
	var s []string
	for _, p := range pkgs {
		s = append(s, p.Name+"@"+p.Version+" "+p.Dir)
	}
	return strings.Join(s, "\n")
}

// A hoisted tree as npm and yarn 1 lay it out: two versions of ms, the
// development one at the top; an optional dependency for another
// platform absent; a peer provided.
func TestProductionPackagesHoisted(t *testing.T) {
	dir := t.TempDir()
	writePackage(t, dir, "app", "1.0.0", "debug", "ms", "@s/ui", "?fsevents")
	// devDependencies are not followed; the tree has them all the same.
	nm := filepath.Join(dir, "node_modules")
	writePackage(t, filepath.Join(nm, "debug"), "debug", "2.6.9", "ms")
	writePackage(t, filepath.Join(nm, "debug", "node_modules", "ms"), "ms", "2.0.0")
	writePackage(t, filepath.Join(nm, "ms"), "ms", "2.1.3")
	writePackage(t, filepath.Join(nm, "@s", "ui"), "@s/ui", "3.0.0", "^react", "?absent-peer-helper", "^absent-peer")
	writePackage(t, filepath.Join(nm, "react"), "react", "19.0.0")
	writePackage(t, filepath.Join(nm, "vite"), "vite", "7.0.0", "esbuild")
	writePackage(t, filepath.Join(nm, "esbuild"), "esbuild", "0.25.0")
	p := &Project{Dir: dir, Manager: Manager{Name: "yarn", Lockfile: "yarn.lock"}}
	got, err := p.ProductionPackages()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"@s/ui@3.0.0 node_modules/@s/ui",
		"debug@2.6.9 node_modules/debug",
		"ms@2.0.0 node_modules/debug/node_modules/ms",
		"ms@2.1.3 node_modules/ms",
		"react@19.0.0 node_modules/react",
	}, "\n")
	if listed(got) != want {
		t.Errorf("got\n%s\nwant\n%s", listed(got), want)
	}
}

// pnpm's layout: node_modules/NAME links into node_modules/.pnpm, where
// each package's dependencies are its siblings.
func TestProductionPackagesPnpm(t *testing.T) {
	dir := t.TempDir()
	writePackage(t, dir, "app", "1.0.0", "debug", "escape-html")
	store := filepath.Join(dir, "node_modules", ".pnpm")
	writePackage(t, filepath.Join(store, "debug@2.6.9", "node_modules", "debug"), "debug", "2.6.9", "ms")
	link(t, "../../ms@2.0.0/node_modules/ms", filepath.Join(store, "debug@2.6.9", "node_modules", "ms"))
	writePackage(t, filepath.Join(store, "ms@2.0.0", "node_modules", "ms"), "ms", "2.0.0")
	writePackage(t, filepath.Join(store, "ms@2.1.3", "node_modules", "ms"), "ms", "2.1.3")
	writePackage(t, filepath.Join(store, "escape-html@1.0.3", "node_modules", "escape-html"), "escape-html", "1.0.3")
	link(t, ".pnpm/debug@2.6.9/node_modules/debug", filepath.Join(dir, "node_modules", "debug"))
	link(t, ".pnpm/escape-html@1.0.3/node_modules/escape-html", filepath.Join(dir, "node_modules", "escape-html"))
	// A development dependency, linked at the top and hoisted in .pnpm/node_modules.
	link(t, ".pnpm/ms@2.1.3/node_modules/ms", filepath.Join(dir, "node_modules", "ms"))
	link(t, "../ms@2.1.3/node_modules/ms", filepath.Join(store, "node_modules", "ms"))
	p := &Project{Dir: dir, Manager: Manager{Name: "pnpm", Lockfile: "pnpm-lock.yaml"}}
	got, err := p.ProductionPackages()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"debug@2.6.9 node_modules/.pnpm/debug@2.6.9/node_modules/debug",
		"escape-html@1.0.3 node_modules/.pnpm/escape-html@1.0.3/node_modules/escape-html",
		"ms@2.0.0 node_modules/.pnpm/ms@2.0.0/node_modules/ms",
	}, "\n")
	if listed(got) != want {
		t.Errorf("got\n%s\nwant\n%s", listed(got), want)
	}

	// A production package the lockfile holds but node_modules lacks.
	os.RemoveAll(filepath.Join(store, "ms@2.0.0"))
	_, err = p.ProductionPackages()
	if err == nil || !strings.Contains(err.Error(), "ms (a dependency of debug@2.6.9)") || !strings.Contains(err.Error(), "pnpm install --frozen-lockfile") {
		t.Errorf("error %v, want one naming ms, needed by debug, and how to install", err)
	}
}

func TestProductionPackagesErrors(t *testing.T) {
	for name, setup := range map[string]func(dir string){
		"not installed": func(dir string) { writePackage(t, dir, "app", "1.0.0", "left-pad") },
		"is not a package name": func(dir string) {
			os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"dependencies":{"../../etc":"*"}}`), 0o644)
		},
		"outside the project": func(dir string) {
			writePackage(t, dir, "app", "1.0.0", "far")
			far := filepath.Join(filepath.Dir(dir), "far-"+filepath.Base(dir))
			writePackage(t, far, "far", "1.0.0")
			link(t, far, filepath.Join(dir, "node_modules", "far"))
		},
		"no name or no version": func(dir string) {
			writePackage(t, dir, "app", "1.0.0", "a")
			writePackage(t, filepath.Join(dir, "node_modules", "a"), "a", "")
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "app")
			os.MkdirAll(dir, 0o755)
			setup(dir)
			p := &Project{Dir: dir, Manager: Manager{Name: "npm", Lockfile: "package-lock.json"}}
			if _, err := p.ProductionPackages(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("error %v, want one saying %q", err, name)
			}
		})
	}
}

// FuzzParseManifest checks that no package.json yields a dependency name
// that, joined to a directory, leaves it.
func FuzzParseManifest(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		for _, n := range append(append(append([]string{}, m.Deps...), m.OptionalDeps...), m.Peers...) {
			j := filepath.Join("/x/node_modules", n)
			if !strings.HasPrefix(j, "/x/node_modules/") || strings.Count(n, "/") > 1 || checkPackageName(n) != nil {
				t.Fatalf("dependency %q: %s", n, j)
			}
			if rel, _ := filepath.Rel("/x/node_modules", j); rel != n || strings.HasPrefix(rel, ".") {
				t.Fatalf("dependency %q joins to %s", n, j)
			}
		}
	})
}
