// Package hostbase assembles small base images from what the test machine
// has, for tests that cannot pull a public base (node, python): the host's
// programs with the shared libraries ldd lists for them, and directories
// such as a Python standard library (build.HostFiles), laid onto paved's
// minimal base (CA bundle, root and nonroot users, /tmp). The image is for
// the host's platform only; its programs run from an extracted copy of the
// image on this machine.
package hostbase

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
)

// Platform is the platform of the images this package makes.
var Platform = v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}

// Layout writes a base holding paths (see Index) to an OCI image layout in
// a directory of the test and returns it as a base reference, "oci:DIR".
func Layout(t testing.TB, paths ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	ref, err := Write(context.Background(), dir, paths...)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// Write writes the base to an OCI image layout in dir and returns "oci:DIR".
func Write(ctx context.Context, dir string, paths ...string) (string, error) {
	idx, err := Index(ctx, paths...)
	if err != nil {
		return "", err
	}
	if err := build.WriteLayout(dir, idx); err != nil {
		return "", err
	}
	return "oci:" + dir, nil
}

// Index assembles the base as a one-platform image index. The first path
// is the image's entrypoint.
func Index(ctx context.Context, paths ...string) (v1.ImageIndex, error) {
	layer, err := build.HostFiles(ctx, "host files", paths...)
	if err != nil {
		return nil, err
	}
	entrypoint := []string{"/bin/false"}
	if len(paths) > 0 {
		entrypoint = []string{paths[0]}
	}
	return build.Assemble(ctx, build.Assembly{
		Platforms:  []v1.Platform{Platform},
		Layers:     []build.Layer{layer},
		Entrypoint: entrypoint,
	})
}
