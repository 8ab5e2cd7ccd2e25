package node

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// The package managers the test installs from the npm registry, pinned.
var managerTools = map[string]string{"pnpm": "pnpm@9.15.9", "yarn": "yarn@1.22.22"}

// managerOnPath installs a pinned manager from the npm registry into a
// temporary directory and puts it first on PATH. Under CI a manager that
// cannot be had fails the test.
func managerOnPath(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		ci.Unavailable(t, "npm is not installed (apt-get install nodejs npm)")
	}
	dir := t.TempDir()
	cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--prefer-offline", managerTools[name])
	if out, err := cmd.CombinedOutput(); err != nil {
		ci.Unavailable(t, "npm install %s from the npm registry: %v\n%s", managerTools[name], err, out)
	}
	t.Setenv("PATH", filepath.Join(dir, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	if p, err := exec.LookPath(name); err != nil || filepath.Dir(p) != filepath.Join(dir, "node_modules", ".bin") {
		t.Fatalf("%s on PATH: %q %v", name, p, err)
	}
}

// managerProject writes a small project: one production dependency that
// its test and its build use, one development dependency that only the
// test uses.
func managerProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"package.json": `{
  "name": "managers-fixture",
  "version": "1.0.0",
  "private": true,
  "scripts": {
    "test": "node --test",
    "build": "node build.js"
  },
  "dependencies": { "escape-html": "1.0.3" },
  "devDependencies": { "ms": "2.1.3" }
}
`,
		"lib.js": "module.exports = (s) => '<p>' + require('escape-html')(s) + '</p>';\n",
		"build.js": "require('fs').mkdirSync('dist', { recursive: true });\n" +
			"require('fs').writeFileSync('dist/out.html', require('./lib.js')('a & b'));\n",
		"lib.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\n" +
			"test('escapes', () => {\n  assert.strictEqual(require('./lib.js')('<x>'), '<p>&lt;x&gt;</p>');\n" +
			"  assert.strictEqual(require('ms')('1s'), 1000);\n});\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Install, test, build and the production install work with pnpm and
// with yarn classic, each picked by its lockfile.
func TestManagers(t *testing.T) {
	for _, tc := range []struct{ name, lockfile, lockArgs string }{
		{"pnpm", "pnpm-lock.yaml", "install --lockfile-only"},
		{"yarn", "yarn.lock", "install --non-interactive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			managerOnPath(t, tc.name)
			// The managers' stores, caches and state stay in the test's
			// directories, not the user's.
			own := t.TempDir()
			for _, v := range []string{"XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"} {
				t.Setenv(v, filepath.Join(own, v))
			}
			t.Setenv("npm_config_store_dir", filepath.Join(own, "pnpm-store"))
			t.Setenv("YARN_CACHE_FOLDER", filepath.Join(own, "yarn-cache"))
			dir := managerProject(t)
			// The manager writes the lockfile, as the developer would.
			lock := exec.Command(tc.name, splitArgs(tc.lockArgs)...)
			lock.Dir = dir
			if out, err := lock.CombinedOutput(); err != nil {
				ci.Unavailable(t, "%s %s: %v\n%s", tc.name, tc.lockArgs, err, out)
			}
			os.RemoveAll(filepath.Join(dir, "node_modules"))

			p, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if p.Manager.Name != tc.name || p.Manager.Lockfile != tc.lockfile || p.Manager.Berry {
				t.Fatalf("manager %+v, want %s from %s", p.Manager, tc.name, tc.lockfile)
			}
			ctx := context.Background()
			var log bytes.Buffer
			if err := p.Install(ctx, &log); err != nil {
				t.Fatalf("install: %v\n%s", err, log.String())
			}
			for _, pkg := range []string{"escape-html", "ms"} {
				if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
					t.Errorf("%s after install: %v", pkg, err)
				}
			}
			if err := p.Script(ctx, &log, nil, "test"); err != nil {
				t.Fatalf("test: %v\n%s", err, log.String())
			}
			if err := p.Script(ctx, &log, nil, "build"); err != nil {
				t.Fatalf("build: %v\n%s", err, log.String())
			}
			if b, err := os.ReadFile(filepath.Join(dir, "dist", "out.html")); err != nil || string(b) != "<p>a &amp; b</p>" {
				t.Fatalf("build output %q: %v\n%s", b, err, log.String())
			}

			dest := filepath.Join(t.TempDir(), "app")
			if err := p.InstallProduction(ctx, &log, dest); err != nil {
				t.Fatalf("production install: %v\n%s", err, log.String())
			}
			if _, err := os.Stat(filepath.Join(dest, "node_modules", "escape-html", "package.json")); err != nil {
				t.Errorf("the production install lacks escape-html: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dest, "node_modules", "ms")); err == nil {
				t.Error("the production install holds ms, a development dependency")
			}

			// A lockfile that disagrees with package.json is an error, not an update.
			pkg, _ := os.ReadFile(filepath.Join(dir, "package.json"))
			os.WriteFile(filepath.Join(dir, "package.json"), bytes.Replace(pkg, []byte(`"escape-html": "1.0.3"`), []byte(`"escape-html": "1.0.2"`), 1), 0o644)
			before, _ := os.ReadFile(filepath.Join(dir, tc.lockfile))
			if err := p.Install(ctx, &log); err == nil {
				t.Errorf("install with a stale %s succeeded", tc.lockfile)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, tc.lockfile)); !bytes.Equal(before, after) {
				t.Errorf("install rewrote %s", tc.lockfile)
			}
		})
	}
}

func splitArgs(s string) []string {
	var out []string
	for _, f := range bytes.Fields([]byte(s)) {
		out = append(out, string(f))
	}
	return out
}
