package sbom

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/CycloneDX/cyclonedx-go"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/pavedhq/paved/internal/testtools/testfs"
)

func TestSource(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	src := testfs.CopyTree(t, exampleDir, t.TempDir())
	// paved's outputs under the source are not part of it
	if err := os.MkdirAll(filepath.Join(src, ".paved", "vendor", "github.com", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, ".paved", "go.mod"), "module example.com/outputs\n\nrequire example.com/leak v1.0.0\n")
	dir := filepath.Join(src, "out") // an output inside the source is skipped too
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/out\n\nrequire example.com/leak2 v1.0.0\n")

	start := time.Now()
	docs, err := SourceAt(context.Background(), src, dir, at)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Source took %v", time.Since(start))
	if len(docs) != 2 {
		t.Fatalf("docs = %+v", docs)
	}
	for _, d := range docs {
		if d.Subject != SourceSubject {
			t.Errorf("Subject = %q, want %q", d.Subject, SourceSubject)
		}
		if want := "source" + d.Format.Ext(); filepath.Base(d.Path) != want {
			t.Errorf("file = %s, want %s", filepath.Base(d.Path), want)
		}
		checkDigest(t, d)
		b, err := os.ReadFile(d.Path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(src)) {
			t.Errorf("%s names the directory it was generated in, %s", d.Format, src)
		}
		if bytes.Contains(b, []byte("example.com/leak")) {
			t.Errorf("%s lists modules from excluded directories", d.Format)
		}
	}

	want := map[string]string{
		"github.com/go-chi/chi/v5": "v5.5.0",
		"github.com/google/uuid":   "v1.6.0",
	}
	doc := readSPDX(t, docs[0].Path)
	if doc.SPDXVersion != "SPDX-2.3" {
		t.Errorf("spdxVersion = %q", doc.SPDXVersion)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("invalid SPDX document: %v", err)
	}
	if doc.DocumentName != "github.com/pavedhq/paved/examples/go-service" {
		t.Errorf("name = %q, want the module path", doc.DocumentName)
	}
	if !strings.HasPrefix(doc.DocumentNamespace, "https://paved.dev/spdx/dir/github.com/pavedhq/paved/examples/go-service-") {
		t.Errorf("namespace = %q", doc.DocumentNamespace)
	}
	if doc.CreationInfo.Created != "2025-01-02T03:04:05Z" {
		t.Errorf("created = %q", doc.CreationInfo.Created)
	}
	purls := spdxPurls(doc)
	bom := readCycloneDX(t, docs[1].Path)
	if bom.SpecVersion != cyclonedx.SpecVersion1_6 {
		t.Errorf("specVersion = %v", bom.SpecVersion)
	}
	cdx := cdxPurls(bom)
	for mod, v := range want {
		p := goPurl(mod, v)
		if purls[p] != v {
			t.Errorf("SPDX: %s missing or with version %q; go packages %v", p, purls[p], goKeys(purls))
		}
		if cdx[p] != v {
			t.Errorf("CycloneDX: %s missing or with version %q; go packages %v", p, cdx[p], goKeys(cdx))
		}
	}

	t.Run("reproducible", func(t *testing.T) {
		// another checkout of the same source, at the same time
		again, err := SourceAt(context.Background(), testfs.CopyTree(t, exampleDir, t.TempDir()), t.TempDir(), at)
		if err != nil {
			t.Fatal(err)
		}
		for i := range again {
			if again[i].Digest != docs[i].Digest {
				a, _ := os.ReadFile(docs[i].Path)
				b, _ := os.ReadFile(again[i].Path)
				t.Errorf("%s differs:\n%s", docs[i].Format, firstDiff(a, b))
			}
		}
	})
}

func TestSourceCreated(t *testing.T) {
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module example.com/m\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n")

	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	docs, err := Source(context.Background(), src, t.TempDir(), SPDXJSON)
	if err != nil {
		t.Fatal(err)
	}
	if got := readSPDX(t, docs[0].Path).CreationInfo.Created; got != "2023-11-14T22:13:20Z" {
		t.Errorf("created = %q, want SOURCE_DATE_EPOCH's 2023-11-14T22:13:20Z", got)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := Source(context.Background(), src, t.TempDir()); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("bad SOURCE_DATE_EPOCH: err = %v", err)
	}

	t.Setenv("SOURCE_DATE_EPOCH", "")
	before := time.Now().UTC().Truncate(time.Second)
	docs, err = Source(context.Background(), src, t.TempDir(), CycloneDXJSON)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339, readCycloneDX(t, docs[0].Path).Metadata.Timestamp)
	if err != nil || ts.Before(before) || ts.After(time.Now()) {
		t.Errorf("timestamp = %v (%v), want now", ts, err)
	}
}

func TestSourceErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Source(ctx, filepath.Join(t.TempDir(), "missing"), t.TempDir()); err == nil {
		t.Error("missing source directory: no error")
	}
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, f, "x")
	if _, err := Source(ctx, f, t.TempDir()); err == nil {
		t.Error("source is a file: no error")
	}
	if _, err := Source(ctx, t.TempDir(), t.TempDir(), "spdx-tag-value"); err == nil {
		t.Error("unknown format: no error")
	}
	// the output directory can't be created: under a file
	if _, err := Source(ctx, t.TempDir(), filepath.Join(f, "out")); err == nil {
		t.Error("output under a file: no error")
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
