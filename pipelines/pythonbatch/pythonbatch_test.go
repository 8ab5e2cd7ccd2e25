package pythonbatch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/pipelines"
)

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for n, c := range files {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPathRefusesBadSettings(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		ci.Unavailable(t, "no /usr/bin/python3")
	}
	t.Setenv("PAVED_PYTHON", "/usr/bin/python3")
	job := map[string]string{"job/__init__.py": "", "job/__main__.py": "print(1)\n"}
	for name, tc := range map[string]struct {
		files map[string]string
		opts  pipelines.Options
		field string
		msg   string
	}{
		"unpinned lock":             {map[string]string{"requirements.txt": "six==1.16.0\ntoml\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "requirements.txt:2"},
		"no lock for pyproject":     {map[string]string{"pyproject.toml": "[project]\ndependencies = [\"toml\"]\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "no lock"},
		"named lock missing":        {map[string]string{"paved.yaml": "job:\n  requirements: locks/prod.txt\n"}, pipelines.Options{}, "paved.yaml: job.requirements", "prod.txt"},
		"no module to run":          {map[string]string{"job/__main__.py": "", "other/__main__.py": ""}, pipelines.Options{}, "paved.yaml: job.module", "found 2"},
		"foreign platform, no base": {nil, pipelines.Options{Platforms: []string{"linux/s390x"}}, "--platform", "this machine's Python"},
		"CronJob name":              {map[string]string{"paved.yaml": "service: Nightly_Report\njob:\n  schedule: \"@daily\"\n"}, pipelines.Options{}, "paved.yaml: service", "DNS label"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, job)
			write(t, dir, tc.files)
			tc.opts.Source = dir
			_, err := Path(context.Background(), tc.opts)
			var ce *pipelines.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("got %v, want a ConfigError naming %s with %q", err, tc.field, tc.msg)
			}
		})
	}
}

func TestPathPlansTheGraph(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"job/__init__.py": "", "job/__main__.py": "", "requirements.txt": "six==1.16.0\n",
		"paved.yaml": "service: nightly\nbase: registry.example/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nplatforms: [linux/amd64, linux/arm64]\njob:\n  schedule: \"@daily\"\n"})
	r, err := Path(context.Background(), pipelines.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Graph.Steps(), ","); got != "deps,test,build,sbom,scan,publish,manifests" {
		t.Errorf("steps %s", got)
	}
}
