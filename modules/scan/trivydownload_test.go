package scan

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dbArtifact is Trivy's database as its registries serve it: an OCI
// artifact whose one layer is a gzipped tar of trivy.db and metadata.json,
// here the test database written into dir.
func dbArtifact(t *testing.T, dir string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []string{"trivy.db", "metadata.json"} {
		b, err := os.ReadFile(filepath.Join(dir, TrivyDBDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: f, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.aquasec.trivy.config.v1+json")
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(buf.Bytes(), trivyDBMediaType), MediaType: trivyDBMediaType})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestRunDownloadsTrivyDB: without DBDir the database is pulled from the
// first registry that serves it (an in-process registry standing in for
// Trivy's), unpacked into the cache directory and used; a second scan
// within the database's update interval pulls nothing; a registry that
// serves no database is a missing database, and the copy already there
// is left whole.
func TestRunDownloadsTrivyDB(t *testing.T) {
	src := t.TempDir()
	writeTrivyDB(t, src, time.Now().UTC().Truncate(time.Second))
	var requests atomic.Int64
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host + "/aquasecurity/trivy-db:2")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, dbArtifact(t, src)); err != nil {
		t.Fatal(err)
	}
	old := trivyDBRepositories
	defer func() { trivyDBRepositories = old }()
	// The first registry has no database: the pull goes on to the next.
	trivyDBRepositories = []string{host + "/absent/trivy-db:2", ref.String()}

	fx := service(t, "vulnerable")
	cache := t.TempDir()
	rep, err := Run(context.Background(), Input{Index: fx.idx}, Options{CacheDir: cache})
	if !errors.As(err, new(*GateError)) {
		t.Fatalf("Run: %v, want the gate to fail on %s", err, critCVE)
	}
	if len(rep.Findings) == 0 || rep.Findings[0].ID != critCVE {
		t.Errorf("findings %q, want %s first", summarize(rep.Findings), critCVE)
	}
	meta, err := metadata.NewClient(filepath.Join(cache, TrivyDBDir)).Get()
	if err != nil || meta.DownloadedAt.IsZero() {
		t.Errorf("metadata after the download: %+v, %v; want the download time recorded", meta, err)
	}

	before := requests.Load()
	if _, err := Run(context.Background(), Input{Index: fx.idx}, Options{CacheDir: cache}); !errors.As(err, new(*GateError)) {
		t.Fatalf("second Run: %v", err)
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("a current database was fetched again: %d requests", n)
	}

	// Past its next update and its download hour, and no registry serves
	// one: the scan fails closed, and the old copy is still there.
	meta.NextUpdate, meta.DownloadedAt = time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)
	if err := metadata.NewClient(filepath.Join(cache, TrivyDBDir)).Update(meta); err != nil {
		t.Fatal(err)
	}
	trivyDBRepositories = []string{host + "/absent/trivy-db:2"}
	_, err = Run(context.Background(), Input{Index: fx.idx}, Options{CacheDir: cache})
	var ie *IncompleteError
	if !errors.As(err, &ie) || !strings.Contains(ie.Error(), "absent/trivy-db") {
		t.Errorf("Run with no database to fetch: %v, want an *IncompleteError naming the registry", err)
	}
	if _, err := os.Stat(filepath.Join(cache, TrivyDBDir, "trivy.db")); err != nil {
		t.Errorf("the failed download removed the old database: %v", err)
	}
}
