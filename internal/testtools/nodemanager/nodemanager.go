// Package nodemanager puts a pinned pnpm or yarn on a test's PATH,
// installed from the npm registry (or npm's cache) into a temporary
// directory, with the manager's store and caches kept in the test's own
// directories. Under CI a manager that cannot be had fails the test.
package nodemanager

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// Versions are the package managers the tests install, pinned.
var Versions = map[string]string{"pnpm": "pnpm@9.15.9", "yarn": "yarn@1.22.22"}

// OnPath installs the pinned manager name (pnpm or yarn) and puts it
// first on PATH, for the test and the processes it starts. It also keeps
// the manager's store, caches and state out of the user's directories.
func OnPath(t *testing.T, name string) {
	t.Helper()
	spec, ok := Versions[name]
	if !ok {
		t.Fatalf("nodemanager: no pinned version of %q", name)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		ci.Unavailable(t, "npm is not installed (apt-get install nodejs npm)")
	}
	dir := t.TempDir()
	cmd := exec.Command("npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--prefer-offline", spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		ci.Unavailable(t, "npm install %s from the npm registry: %v\n%s", spec, err, out)
	}
	bin := filepath.Join(dir, "node_modules", ".bin")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if p, err := exec.LookPath(name); err != nil || filepath.Dir(p) != bin {
		t.Fatalf("%s on PATH: %q %v", name, p, err)
	}
	own := t.TempDir()
	for _, v := range []string{"XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME"} {
		t.Setenv(v, filepath.Join(own, v))
	}
	t.Setenv("npm_config_store_dir", filepath.Join(own, "pnpm-store"))
	t.Setenv("YARN_CACHE_FOLDER", filepath.Join(own, "yarn-cache"))
}
