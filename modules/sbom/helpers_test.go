package sbom

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"

	"github.com/pavedhq/paved/modules/build"
)

// exampleDir is the example service: chi v5.5.0 and uuid v1.6.0, both in
// the module cache, so building it needs no network.
const exampleDir = "../../examples/go-service"

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// offlineEnv keeps the go command from reaching the network, and the
// experiments this package's tests are built with out of the fixture.
var offlineEnv = []string{"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod", "GOEXPERIMENT="}

// created is the fixture image's creation time, which its documents carry.
var created = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

var exampleIndex = sync.OnceValues(func() (v1.ImageIndex, error) {
	return build.Go(context.Background(), build.Options{
		Dir:       exampleDir,
		Platforms: []v1.Platform{amd64, arm64},
		Created:   created,
		Env:       offlineEnv,
	})
})

// example returns the example service's image index (linux/amd64 and
// linux/arm64), built once per test binary.
func example(t testing.TB) v1.ImageIndex {
	t.Helper()
	idx, err := exampleIndex()
	if err != nil {
		t.Fatalf("building the example service: %v", err)
	}
	return idx
}

// exampleImage returns the example's image for p.
func exampleImage(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	im, err := example(t).IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Equals(p) {
			img, err := example(t).Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no %s image in the example index", p)
	return nil
}

// goDeps reads the module dependencies and toolchain ("stdlib") the go
// command itself records in the image's binary (go version -m), the truth
// the SBOM is checked against.
func goDeps(t testing.TB, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	bin := filepath.Join(t.TempDir(), "bin")
	if err := extractFile(rc, strings.TrimPrefix(build.AppDir, "/")+"/go-service", bin); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	deps := map[string]string{}
	for i, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case i == 0 && len(f) == 2: // "<file>: go1.26.8"
			deps["stdlib"] = f[1]
		case len(f) >= 3 && f[0] == "dep":
			deps[f[1]] = f[2]
		}
	}
	if len(deps) == 0 {
		t.Fatalf("go version -m lists no dependencies:\n%s", out)
	}
	return deps
}

func readSPDX(t testing.TB, path string) *spdx.Document {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := spdxjson.Read(f)
	if err != nil {
		t.Fatalf("parsing %s as SPDX JSON: %v", path, err)
	}
	return doc
}

func readCycloneDX(t testing.TB, path string) *cyclonedx.BOM {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cyclonedx.BOM
	if err := cyclonedx.NewBOMDecoder(f, cyclonedx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("parsing %s as CycloneDX JSON: %v", path, err)
	}
	return &bom
}

// spdxPurls maps every package's purl to its version.
func spdxPurls(doc *spdx.Document) map[string]string {
	out := map[string]string{}
	for _, p := range doc.Packages {
		for _, r := range p.PackageExternalReferences {
			if r.RefType == "purl" {
				out[r.Locator] = p.PackageVersion
			}
		}
	}
	return out
}

// cdxPurls maps every component's purl to its version.
func cdxPurls(bom *cyclonedx.BOM) map[string]string {
	out := map[string]string{}
	if bom.Components == nil {
		return out
	}
	for _, c := range *bom.Components {
		if c.PackageURL != "" {
			out[c.PackageURL] = c.Version
		}
	}
	return out
}

// goPurl is the purl Syft must give a Go module.
func goPurl(mod, version string) string {
	return "pkg:golang/" + mod + "@" + version
}

// byFormat indexes documents by subject and format.
func byFormat(docs []Document) map[string]map[Format]Document {
	out := map[string]map[Format]Document{}
	for _, d := range docs {
		if out[d.Subject] == nil {
			out[d.Subject] = map[Format]Document{}
		}
		out[d.Subject][d.Format] = d
	}
	return out
}

// extractFile copies the file name of a tar stream to dst.
func extractFile(r io.Reader, name, dst string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("%s not in the image", name)
		}
		if err != nil {
			return err
		}
		if strings.TrimPrefix(h.Name, "./") != name {
			continue
		}
		f, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}
