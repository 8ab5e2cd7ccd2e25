package sbom

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/spdx/tools-golang/spdxlib"
)

const exampleRef = "localhost:5000/demo/go-service:latest"

func TestImage(t *testing.T) {
	img := exampleImage(t, amd64)
	want := goDeps(t, img)
	for _, mod := range []string{"github.com/go-chi/chi/v5", "github.com/google/uuid"} {
		if _, ok := want[mod]; !ok {
			t.Fatalf("the example binary doesn't record %s; deps %v", mod, want)
		}
	}

	dir := t.TempDir()
	start := time.Now()
	docs, err := Image(context.Background(), img, exampleRef, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Image took %v", time.Since(start))

	if len(docs) != 2 || docs[0].Format != SPDXJSON || docs[1].Format != CycloneDXJSON {
		t.Fatalf("docs = %+v, want SPDX then CycloneDX", docs)
	}
	for _, d := range docs {
		if d.Subject != "linux/amd64" {
			t.Errorf("%s: Subject = %q, want linux/amd64", d.Format, d.Subject)
		}
		checkDigest(t, d)
	}
	if got, want := filepath.Base(docs[0].Path), "linux-amd64.spdx.json"; got != want {
		t.Errorf("SPDX file = %s, want %s", got, want)
	}
	if got, want := filepath.Base(docs[1].Path), "linux-amd64.cdx.json"; got != want {
		t.Errorf("CycloneDX file = %s, want %s", got, want)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("spdx", func(t *testing.T) {
		doc := readSPDX(t, docs[0].Path)
		if doc.SPDXVersion != "SPDX-2.3" {
			t.Errorf("spdxVersion = %q, want SPDX-2.3", doc.SPDXVersion)
		}
		if err := spdxlib.ValidateDocument(doc); err != nil {
			t.Errorf("invalid SPDX document: %v", err)
		}
		if doc.DocumentName != "localhost:5000/demo/go-service" {
			t.Errorf("name = %q", doc.DocumentName)
		}
		if !strings.HasPrefix(doc.DocumentNamespace, "https://paved.dev/spdx/image/localhost-5000/demo/go-service-") {
			t.Errorf("namespace = %q", doc.DocumentNamespace)
		}
		if got, want := doc.CreationInfo.Created, "2024-05-06T07:08:09Z"; got != want {
			t.Errorf("created = %q, want the image's %q", got, want)
		}
		purls := spdxPurls(doc)
		checkGoModules(t, purls, want)
		checkRoot(t, purls, digest)
	})

	t.Run("cyclonedx", func(t *testing.T) {
		bom := readCycloneDX(t, docs[1].Path)
		if bom.SpecVersion != cyclonedx.SpecVersion1_6 {
			t.Errorf("specVersion = %v, want 1.6", bom.SpecVersion)
		}
		if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
			t.Errorf("serialNumber = %q, want a name-based UUID URN", bom.SerialNumber)
		}
		if got, want := bom.Metadata.Timestamp, "2024-05-06T07:08:09Z"; got != want {
			t.Errorf("timestamp = %q, want the image's %q", got, want)
		}
		if c := bom.Metadata.Component; c == nil || c.Name != "localhost:5000/demo/go-service" || c.Type != cyclonedx.ComponentTypeContainer {
			t.Errorf("metadata.component = %+v, want the container", c)
		}
		checkGoModules(t, cdxPurls(bom), want)
	})

	t.Run("reproducible", func(t *testing.T) {
		again, err := Image(context.Background(), img, exampleRef, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for i := range docs {
			if again[i].Digest != docs[i].Digest {
				a, _ := os.ReadFile(docs[i].Path)
				b, _ := os.ReadFile(again[i].Path)
				t.Errorf("%s differs between runs:\n%s", docs[i].Format, firstDiff(a, b))
			}
		}
	})
}

// checkGoModules asserts that every module the binary records, and the
// toolchain as "stdlib", is in purls with its version, chi and uuid among
// them.
func checkGoModules(t *testing.T, purls map[string]string, deps map[string]string) {
	t.Helper()
	for mod, version := range deps {
		if mod == "stdlib" {
			// the toolchain: versionInfo "go1.26.8", purl version "1.26.8"
			if p := goPurl(mod, strings.TrimPrefix(version, "go")); purls[p] != version {
				t.Errorf("no package %s with version %s; go packages: %v", p, version, goKeys(purls))
			}
			continue
		}
		p := goPurl(mod, version)
		got, ok := purls[p]
		if !ok {
			t.Errorf("no package %s; go packages: %v", p, goKeys(purls))
			continue
		}
		if got != version {
			t.Errorf("%s: version %q, want %q", p, got, version)
		}
	}
	for _, p := range []string{
		"pkg:golang/github.com/go-chi/chi/v5@v5.5.0",
		"pkg:golang/github.com/google/uuid@v1.6.0",
	} {
		if _, ok := purls[p]; !ok {
			t.Errorf("no package %s", p)
		}
	}
}

func TestIndex(t *testing.T) {
	idx := example(t)
	dir := t.TempDir()
	start := time.Now()
	docs, err := Index(context.Background(), idx, exampleRef, dir, SPDXJSON, CycloneDXJSON)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Index of 2 platforms took %v", time.Since(start))

	var subjects []string
	for _, d := range docs {
		subjects = append(subjects, d.Subject+" "+filepath.Base(d.Path))
		checkDigest(t, d)
	}
	wantSubjects := []string{
		"linux/amd64 linux-amd64.spdx.json", "linux/amd64 linux-amd64.cdx.json",
		"linux/arm64 linux-arm64.spdx.json", "linux/arm64 linux-arm64.cdx.json",
	}
	if strings.Join(subjects, ",") != strings.Join(wantSubjects, ",") {
		t.Fatalf("documents = %q, want %q", subjects, wantSubjects)
	}
	got := byFormat(docs)
	for _, p := range []v1.Platform{amd64, arm64} {
		img := exampleImage(t, p)
		deps := goDeps(t, img)
		digest, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(p.Architecture, func(t *testing.T) {
			doc := readSPDX(t, got[p.String()][SPDXJSON].Path)
			purls := spdxPurls(doc)
			checkGoModules(t, purls, deps)
			// each platform's document describes that platform's manifest
			checkRoot(t, purls, digest)
			checkGoModules(t, cdxPurls(readCycloneDX(t, got[p.String()][CycloneDXJSON].Path)), deps)
		})
	}
}

func TestIndexSkipsAttestationsAndRejectsClashes(t *testing.T) {
	amd := exampleImage(t, amd64)
	unknown := v1.Platform{OS: "unknown", Architecture: "unknown"}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &amd64}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &unknown}},
	)
	docs, err := Index(context.Background(), idx, exampleRef, t.TempDir(), CycloneDXJSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Subject != "linux/amd64" {
		t.Errorf("docs = %+v, want one linux/amd64 document", docs)
	}

	arm := exampleImage(t, arm64)
	clash := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &amd64}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &amd64}},
	)
	if _, err := Index(context.Background(), clash, exampleRef, t.TempDir()); err == nil || !strings.Contains(err.Error(), "two manifests for platform linux/amd64") {
		t.Errorf("Index with two linux/amd64 manifests: err = %v", err)
	}
	if _, err := Index(context.Background(), empty.Index, exampleRef, t.TempDir()); err == nil {
		t.Error("Index of an empty index: no error")
	}
}

func TestCancelled(t *testing.T) {
	img := exampleImage(t, amd64)
	idx := example(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, f := range map[string]func(string) ([]Document, error){
		"Image":  func(dir string) ([]Document, error) { return Image(ctx, img, exampleRef, dir) },
		"Index":  func(dir string) ([]Document, error) { return Index(ctx, idx, exampleRef, dir) },
		"Source": func(dir string) ([]Document, error) { return Source(ctx, exampleDir, dir) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			docs, err := f(dir)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if docs != nil {
				t.Errorf("docs = %+v", docs)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("wrote %v", ents)
			}
		})
	}

	// Cancelled while reading the layers: the first read of a layer
	// cancels, so the cancellation always lands after Index has started
	// and passed its own checks.
	t.Run("midway", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		read := make(chan struct{})
		var once sync.Once
		onRead := func() { once.Do(func() { cancel(); close(read) }) }
		start := time.Now()
		docs, err := Index(ctx, cancellingIndex{idx, onRead}, exampleRef, t.TempDir())
		d := time.Since(start)
		select {
		case <-read:
		default:
			t.Fatalf("Index returned (err = %v) without reading a layer", err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d > 10*time.Second {
			t.Errorf("returned %v after the start, want promptly after the cancellation", d)
		}
		if docs != nil {
			t.Errorf("docs = %+v", docs)
		}
	})
}

// cancellingIndex is an index whose images call onRead on the first read
// of any layer's contents.
type cancellingIndex struct {
	index  // named so that its ImageIndex method is promoted
	onRead func()
}

type index = v1.ImageIndex

func (c cancellingIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := c.index.Image(h)
	return cancellingImage{img, c.onRead}, err
}

type cancellingImage struct {
	v1.Image
	onRead func()
}

func (c cancellingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	for i, l := range ls {
		ls[i] = cancellingLayer{l, c.onRead}
	}
	return ls, err
}

func (c cancellingImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := c.Image.LayerByDigest(h)
	return cancellingLayer{l, c.onRead}, err
}

type cancellingLayer struct {
	v1.Layer
	onRead func()
}

func (c cancellingLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := c.Layer.Uncompressed()
	return readHook{rc, c.onRead}, err
}

func (c cancellingLayer) Compressed() (io.ReadCloser, error) {
	rc, err := c.Layer.Compressed()
	return readHook{rc, c.onRead}, err
}

type readHook struct {
	io.ReadCloser
	onRead func()
}

func (r readHook) Read(p []byte) (int, error) {
	r.onRead()
	return r.ReadCloser.Read(p)
}

func checkDigest(t *testing.T, d Document) {
	t.Helper()
	b, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h != d.Digest {
		t.Errorf("%s: Digest = %s, file hashes to %s", d.Path, d.Digest, h)
	}
}

// checkRoot asserts that the document's root package is the image
// manifest: pkg:oci/<name>@<digest>, the digest's colon escaped.
func checkRoot(t *testing.T, purls map[string]string, digest v1.Hash) {
	t.Helper()
	want := "pkg:oci/localhost%3A5000%2Fdemo%2Fgo-service@sha256%3A" + digest.Hex + "?"
	for k := range purls {
		if strings.HasPrefix(k, want) {
			return
		}
	}
	t.Errorf("no root package %s... in %v", want, keys(purls))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func goKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, "pkg:golang/") {
			out = append(out, k)
		}
	}
	return out
}

// firstDiff shows where two documents start to differ.
func firstDiff(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-200, 0)
	return string(a[lo:min(i+200, len(a))]) + "\n---\n" + string(b[lo:min(i+200, len(b))])
}
