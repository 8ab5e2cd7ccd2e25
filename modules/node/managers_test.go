package node

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/nodemanager"
)

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
			nodemanager.OnPath(t, tc.name)
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
			// ms, a development dependency, is installed but not listed.
			if got, err := p.ProductionPackages(); err != nil || len(got) != 1 || got[0].Name != "escape-html" || got[0].Version != "1.0.3" {
				t.Errorf("production packages %+v, %v; want escape-html 1.0.3 alone", got, err)
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
			if prod, err := Open(dest); err != nil {
				t.Error(err)
			} else if got, err := prod.ProductionPackages(); err != nil || len(got) != 1 || got[0].Name != "escape-html" {
				t.Errorf("production packages of the production install %+v, %v; want escape-html", got, err)
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
