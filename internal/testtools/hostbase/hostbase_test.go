package hostbase

import (
	"archive/tar"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/modules/build"
)

// The base holds the program, every library ldd names for it, and the
// minimal base's users; it reads back from the layout it was written to.
func TestNodeBase(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		ci.Unavailable(t, "node is not installed")
	}
	ctx := context.Background()
	ref := Layout(t, node)
	base, err := build.ParseBase(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := base.Image(ctx, Platform)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files["/"+strings.TrimSuffix(h.Name, "/")] = true
	}
	libs, err := hostLibraries(t, node)
	if err != nil {
		t.Fatal(err)
	}
	if len(libs) == 0 {
		t.Fatal("ldd listed no libraries for node")
	}
	for _, want := range append(libs, node, "/etc/passwd", "/home/nonroot", "/tmp") {
		if !files[want] {
			t.Errorf("%s is not in the base", want)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Entrypoint[0] != node || cf.Architecture != Platform.Architecture {
		t.Errorf("config %+v", cf.Config)
	}
}

// hostLibraries asks ldd itself, apart from the code under test.
func hostLibraries(t *testing.T, prog string) ([]string, error) {
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		return nil, err
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if filepath.IsAbs(f) {
				libs = append(libs, f)
			}
		}
	}
	return libs, nil
}
