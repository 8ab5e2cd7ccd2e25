package main

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"dagger/paved/internal/dagger"
)

// withSeverities returns source with paved.yaml's scan.severities set, the
// one place paved reads the gate's severities from.
func withSeverities(ctx context.Context, source *dagger.Directory, severities []string) (*dagger.Directory, error) {
	cfg := map[string]any{}
	if ok, err := source.Exists(ctx, "paved.yaml"); err != nil {
		return nil, err
	} else if ok {
		b, err := source.File("paved.yaml").Contents(ctx)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal([]byte(b), &cfg); err != nil {
			return nil, fmt.Errorf("paved.yaml: %w", err)
		}
		if cfg == nil {
			cfg = map[string]any{}
		}
	}
	scan, _ := cfg["scan"].(map[string]any)
	if scan == nil {
		scan = map[string]any{}
	}
	scan["severities"] = severities
	cfg["scan"] = scan
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return source.WithNewFile("paved.yaml", string(b)), nil
}

// tarball packs an OCI image layout into the archive Container.import reads
// (paved's image has no tar). It works in the module's scratch directory,
// the only filesystem a function may write and hand back to the engine.
func tarball(ctx context.Context, layout *dagger.Directory) (*dagger.File, error) {
	tmp, err := os.MkdirTemp(".", "layout-")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "image")
	if _, err := layout.Export(ctx, dir); err != nil {
		return nil, err
	}
	path := filepath.Join(tmp, "image.tar")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := tar.NewWriter(f)
	if err := w.AddFS(os.DirFS(dir)); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return dag.CurrentModule().WorkdirFile(path), nil
}
