package frontend

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/testfs"
	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/nodestep"
	"github.com/pavedhq/paved/runner"
)

// example copies examples/frontend without what a run leaves and
// installs it (npm ci, from npm's cache when it holds the packages).
func example(t *testing.T) *node.Project {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		ci.Unavailable(t, "npm is not installed")
	}
	dir := testfs.CopyTree(t, "../../examples/frontend", filepath.Join(t.TempDir(), "frontend"))
	for _, d := range []string{"node_modules", "dist", "coverage"} {
		os.RemoveAll(filepath.Join(dir, d))
	}
	p, err := node.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func buildImage(t *testing.T, p *node.Project) v1.ImageIndex {
	t.Helper()
	ctx := context.Background()
	out := t.TempDir()
	// The build step installs the dependencies when the test step has not.
	bs := &buildStep{proj: p, assembly: build.Assembly{Platforms: build.DefaultPlatforms, WorkingDir: AppDir,
		Entrypoint: []string{Server}, Env: []string{"PAVED_STATIC_ROOT=" + SiteDir}}}
	if _, err := bs.Run(ctx, runner.Inputs{OutDir: out}); err != nil {
		t.Fatalf("build step: %v", err)
	}
	lp, err := layout.FromPath(filepath.Join(out, goservice.ImageLayoutDir))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	// WriteLayout writes the index's platform manifests as the layout's.
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 2 {
		t.Fatalf("layout: %v, want 2 platform manifests", err)
	}
	return idx
}

// layerDigests lists each platform's layers, base first.
func layerDigests(t *testing.T, idx v1.ImageIndex) map[string][]v1.Hash {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]v1.Hash{}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			h, _ := l.Digest()
			out[d.Platform.Architecture] = append(out[d.Platform.Architecture], h)
		}
	}
	return out
}

// TestImageLayers builds the example twice (the same digest), then again
// after a one-line change to the application: only the site layer
// changes. The server layer is per platform; the others are shared.
func TestImageLayers(t *testing.T) {
	p := example(t)
	first := buildImage(t, p)
	second := buildImage(t, p)
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	if d1 != d2 {
		t.Fatalf("two builds of the same source: %s and %s", d1, d2)
	}
	layers := layerDigests(t, first)
	amd, arm := layers["amd64"], layers["arm64"]
	// base, server, bundled packages, site
	if len(amd) != 4 || len(arm) != 4 {
		t.Fatalf("layers amd64 %d, arm64 %d; want 4 each", len(amd), len(arm))
	}
	if amd[1] == arm[1] {
		t.Error("the server layer is the same on amd64 and arm64")
	}
	if amd[2] != arm[2] || amd[3] != arm[3] {
		t.Error("the bundled packages and site layers differ between platforms")
	}

	views := filepath.Join(p.Dir, "src", "views.js")
	b, err := os.ReadFile(views)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(views, []byte(strings.Replace(string(b), "Served by paved-static.", "Served by paved.", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := layerDigests(t, buildImage(t, p))["amd64"]
	for i, what := range []string{"base", "server", "bundled packages"} {
		if changed[i] != amd[i] {
			t.Errorf("a change to the application changed the %s layer", what)
		}
	}
	if changed[3] == amd[3] {
		t.Error("a change to the application left the site layer as it was")
	}
}

// A failed test is a *node.FailedError naming it, with a result for the
// report.
func TestTestStepFailure(t *testing.T) {
	p := example(t)
	f := filepath.Join(p.Dir, "src", "app.test.js")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, []byte(strings.Replace(string(b), "toBe('/')", "toBe('/home')", 1)), 0o644)
	res, err := (&nodestep.Test{Project: p, MinCoverage: 80}).Run(context.Background(), runner.Inputs{OutDir: t.TempDir()})
	var fe *node.FailedError
	if !errors.As(err, &fe) || res == nil || !strings.Contains(err.Error(), "matches static and parameter routes") {
		t.Fatalf("error %v, result %v: want a FailedError naming the test", err, res)
	}
}
