package frontend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/pipelines"
)

// Settings the path cannot run with are ConfigErrors (exit 2) naming the
// field at fault.
func TestPathConfigErrors(t *testing.T) {
	write := func(dir string, files map[string]string) string {
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	lock := `{"lockfileVersion":3,"packages":{}}`
	tests := []struct {
		name   string
		files  map[string]string
		opts   pipelines.Options
		field  string
		detail string
	}{
		{"no package.json", map[string]string{}, pipelines.Options{}, "--source", "no package.json"},
		{"no lockfile", map[string]string{"package.json": `{"scripts":{"test":"vitest","build":"vite build"}}`}, pipelines.Options{}, "--source", "no lockfile"},
		{"no test script", map[string]string{"package.json": `{"scripts":{"build":"vite build"}}`, "package-lock.json": lock}, pipelines.Options{}, "package.json: scripts.test", "test script"},
		{"no build script", map[string]string{"package.json": `{"scripts":{"test":"vitest"}}`, "package-lock.json": lock}, pipelines.Options{}, "package.json: scripts.build", "dist/"},
		{"bad coverage", map[string]string{"package.json": `{"scripts":{"test":"vitest","build":"vite build"}}`, "package-lock.json": lock}, pipelines.Options{MinCoverage: ptr(120.0)}, "--coverage", "120"},
		{"bad platform", map[string]string{"package.json": `{"scripts":{"test":"vitest","build":"vite build"}}`, "package-lock.json": lock}, pipelines.Options{Platforms: []string{"linux"}}, "--platform", ""},
		{"yarn 2", map[string]string{"package.json": `{"scripts":{"test":"vitest","build":"vite build"}}`, "yarn.lock": "", ".yarnrc.yml": "nodeLinker: pnp\n"}, pipelines.Options{}, "--source", "yarn 2 or later"},
		{"bad base", map[string]string{"package.json": `{"scripts":{"test":"vitest","build":"vite build"}}`, "package-lock.json": lock}, pipelines.Options{Base: "oci:"}, "--base", "oci:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Source = write(t.TempDir(), tc.files)
			_, err := Path(context.Background(), o)
			var ce *pipelines.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("error %v, want a ConfigError for %s mentioning %q", err, tc.field, tc.detail)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
