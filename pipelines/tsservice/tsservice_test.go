package tsservice

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/pipelines"
)

func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Settings the path cannot work with are usage errors naming the field.
func TestPathConfigErrors(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		ci.Unavailable(t, "npm is not installed")
	}
	const pkg = `{"name":"svc","main":"dist/main.js","scripts":{"test":"vitest run"}}`
	for name, tc := range map[string]struct {
		files map[string]string
		opts  pipelines.Options
		field string
		msg   string
	}{
		"no package.json": {map[string]string{"x.ts": ""}, pipelines.Options{}, "--source", "package.json"},
		"no lockfile":     {map[string]string{"package.json": pkg}, pipelines.Options{}, "--source", "lockfile"},
		"no main": {map[string]string{"package.json": `{"scripts":{"test":"vitest"}}`, "package-lock.json": "{}"},
			pipelines.Options{}, "package.json: main", "dist/main.js"},
		"no test script": {map[string]string{"package.json": `{"main":"a.js"}`, "package-lock.json": "{}"},
			pipelines.Options{}, "package.json: scripts.test", "test script"},
		"foreign platform on the host's node": {map[string]string{"package.json": pkg, "package-lock.json": "{}"},
			pipelines.Options{Platforms: []string{"linux/s390x"}}, "--platform", "linux/s390x"},
		"yarn 2": {map[string]string{"package.json": pkg, "yarn.lock": "", ".yarnrc.yml": "nodeLinker: pnp\n"},
			pipelines.Options{}, "--source", "yarn 2 or later"},
		"bad coverage": {map[string]string{"package.json": pkg, "package-lock.json": "{}"},
			pipelines.Options{MinCoverage: ptr(120.0)}, "--coverage", "120"},
	} {
		t.Run(name, func(t *testing.T) {
			o := tc.opts
			o.Source = project(t, tc.files)
			_, err := Path(context.Background(), o)
			var ce *pipelines.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Error(), tc.msg) {
				t.Errorf("Path = %v, want a ConfigError on %s saying %q", err, tc.field, tc.msg)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The graph: test, then build; publish waits for test, sbom and scan.
func TestPathGraph(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		ci.Unavailable(t, "node is not installed")
	}
	dir := project(t, map[string]string{"package.json": `{"name":"svc","main":"dist/main.js","scripts":{"test":"vitest run"}}`, "package-lock.json": "{}"})
	r, err := Path(context.Background(), pipelines.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Graph.Steps(), ","); got != "test,build,sbom,scan,publish" {
		t.Errorf("steps %s", got)
	}
	if len(r.Warnings) < 2 || !strings.Contains(r.Warnings[0], "pin a Node base") {
		t.Errorf("warnings %q", r.Warnings)
	}
}
