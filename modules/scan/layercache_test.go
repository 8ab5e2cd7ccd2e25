package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	dbtypes "github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	bolt "go.etcd.io/bbolt"

	"github.com/pavedhq/paved/modules/build"
)

// An invented Debian advisory on the base's openssl, so the base layer's
// analysis matters to the findings.
const (
	debianCVE     = "CVE-2099-0100"
	opensslFixed  = "3.0.99-1"
	opensslOld    = "3.0.11-1~deb12u2"
	debianRelease = "12"
)

// debianBase is a base whose one layer holds a Debian 12 system with
// openssl installed according to dpkg, for every platform asked for.
type debianBase struct{}

func (debianBase) Name() string { return "example.com/debian-test" }

func (b debianBase) Digest(ctx context.Context) (v1.Hash, error) {
	img, err := b.Image(ctx, v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

func (debianBase) Image(_ context.Context, p v1.Platform) (v1.Image, error) {
	status := "Package: openssl\nStatus: install ok installed\nPriority: optional\nSection: utils\n" +
		"Installed-Size: 2304\nMaintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\n" +
		"Architecture: " + p.Architecture + "\nVersion: " + opensslOld + "\nDescription: Secure Sockets Layer toolkit\n\n"
	files := []struct{ name, body string }{
		{"etc/debian_version", "12.5\n"},
		{"etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"},
		{"var/lib/dpkg/status", status},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return nil, err
	}
	return mutate.ConfigFile(img, &v1.ConfigFile{OS: p.OS, Architecture: p.Architecture, RootFS: v1.RootFS{Type: "layers"}})
}

// addDebianAdvisory adds debianCVE on openssl to the Trivy database in dir.
func addDebianAdvisory(t *testing.T, dir string) {
	t.Helper()
	trivyMu.Lock()
	defer trivyMu.Unlock()
	if err := trivydb.Init(filepath.Join(dir, TrivyDBDir)); err != nil {
		t.Fatal(err)
	}
	defer trivydb.Close()
	dbc := trivydb.Config{}
	bkt := bucket.NewDebian(debianRelease).Name()
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		if err := dbc.PutDataSource(tx, bkt, dbtypes.DataSource{ID: vulnerability.Debian, Name: "Debian Security Tracker"}); err != nil {
			return err
		}
		if err := dbc.PutAdvisory(tx, []string{bkt, "openssl"}, debianCVE, dbtypes.Advisory{FixedVersion: opensslFixed}); err != nil {
			return err
		}
		return dbc.PutVulnerability(tx, debianCVE, dbtypes.Vulnerability{Title: "openssl: test advisory", Severity: "HIGH",
			VendorSeverity: dbtypes.VendorSeverity{vulnerability.Debian: dbtypes.SeverityHigh}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildOnDebian builds the vulnerable fixture service, with main printing
// greeting, on debianBase for linux/amd64 and linux/arm64.
func buildOnDebian(t *testing.T, greeting string) v1.ImageIndex {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/vulnsvc\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n",
		"go.sum": "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
			"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n",
		"main.go": strings.Replace(vulnerableMain, "fmt.Println(uuid.NewString())", "fmt.Println("+greeting+", uuid.NewString())", 1),
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := build.Go(context.Background(), build.Options{Dir: dir, Base: debianBase{},
		Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// scanJSON scans idx's image with Trivy alone and returns the report as
// written; the gate fails on the fixture's critical advisory.
func scanJSON(t *testing.T, idx v1.ImageIndex, opts Options) []byte {
	t.Helper()
	rep, err := Run(context.Background(), Input{Index: idx}, opts)
	var ge *GateError
	if !errors.As(err, &ge) {
		t.Fatalf("Run: %v, want the gate to fail", err)
	}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// entries lists the layer cache's entries with their inode numbers.
func entries(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = info.Sys().(*syscall.Stat_t).Ino
	}
	return out
}

// diffIDs lists the layers of every platform of idx.
func diffIDs(t *testing.T, idx v1.ImageIndex) map[v1.Hash]bool {
	t.Helper()
	imgs, err := platformImages(idx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[v1.Hash]bool{}
	for _, pi := range imgs {
		cf, err := pi.img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range cf.RootFS.DiffIDs {
			out[d] = true
		}
	}
	return out
}

// TestLayerCache scans an image, then the same service after a one-line
// change, with the layer cache: the second scan analyses only the new
// application layers (the base's entry is read, not rewritten), and both
// reports are byte for byte those of a scan with no cache.
func TestLayerCache(t *testing.T) {
	db := airGapped(t)
	addDebianAdvisory(t, db)
	before := buildOnDebian(t, `"hello"`)
	after := buildOnDebian(t, `"hello, world"`)

	cache := filepath.Join(t.TempDir(), "layers")
	noCache := Options{DBDir: db}
	withCache := Options{DBDir: db, LayerCacheDir: cache}

	want := scanJSON(t, before, noCache)
	for _, id := range []string{debianCVE, critCVE} {
		if !bytes.Contains(want, []byte(id)) {
			t.Fatalf("scan without a cache does not find %s:\n%s", id, want)
		}
	}
	if got := scanJSON(t, before, withCache); !bytes.Equal(got, want) {
		t.Errorf("first scan with an empty layer cache differs from one without:\n%s\nwant:\n%s", got, want)
	}
	first := entries(t, cache)
	layersBefore := diffIDs(t, before)
	if len(first) != len(layersBefore) {
		t.Errorf("layer cache holds %d entries after the first scan, want one per layer: %d", len(first), len(layersBefore))
	}

	want = scanJSON(t, after, noCache)
	if got := scanJSON(t, after, withCache); !bytes.Equal(got, want) {
		t.Errorf("scan after a one-line change with the layer cache differs from one without:\n%s\nwant:\n%s", got, want)
	}
	second := entries(t, cache)
	var added int
	for d := range diffIDs(t, after) {
		if !layersBefore[d] {
			added++
		}
	}
	if added == 0 || len(second) != len(first)+added {
		t.Errorf("layer cache went from %d to %d entries; want %d more, one per new layer", len(first), len(second), added)
	}
	var kept int
	for name, ino := range first {
		if second[name] == ino {
			kept++
		}
	}
	// The base layer is the same for both platforms and both builds; the
	// application layers of the first build are not in the second.
	if kept != len(first) {
		t.Errorf("%d of %d entries of the first scan were rewritten by the second: layers analysed again", len(first)-kept, len(first))
	}

	// Entries hold packages, not file contents or secrets.
	for name := range second {
		b, err := os.ReadFile(filepath.Join(cache, name))
		if err != nil {
			t.Fatal(err)
		}
		var info ftypes.BlobInfo
		if err := json.Unmarshal(b, &info); err != nil {
			t.Fatalf("entry %s: %v", name, err)
		}
		if len(info.Secrets) > 0 || len(info.Licenses) > 0 || len(info.Misconfigurations) > 0 {
			t.Errorf("entry %s holds secrets, licences or misconfigurations: %s", name, b)
		}
	}
}

// TestLayerCacheTornEntry: an entry that does not decode is analysed again
// and overwritten, with the same findings.
func TestLayerCacheTornEntry(t *testing.T) {
	db := airGapped(t)
	idx := buildOnDebian(t, `"torn"`)
	cache := filepath.Join(t.TempDir(), "layers")
	opts := Options{DBDir: db, LayerCacheDir: cache}
	want := scanJSON(t, idx, Options{DBDir: db})
	scanJSON(t, idx, opts)
	names := slices.Sorted(maps.Keys(entries(t, cache)))
	if len(names) == 0 {
		t.Fatal("no layer cache entries")
	}
	torn := filepath.Join(cache, names[0])
	if err := os.WriteFile(torn, []byte(`{"SchemaVersion":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := scanJSON(t, idx, opts); !bytes.Equal(got, want) {
		t.Errorf("scan over a torn entry:\n%s\nwant:\n%s", got, want)
	}
	b, err := os.ReadFile(torn)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Errorf("torn entry was not rewritten: %s", b)
	}
}

// TestLayerCacheEvicts keeps the entries used last.
func TestLayerCacheEvicts(t *testing.T) {
	dir := t.TempDir()
	c := &layerCache{dir: dir}
	now := time.Now()
	for i, n := range []string{"a", "b", "c", "d"} {
		p := filepath.Join(dir, n+".json")
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		at := now.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.evict(3, 1<<20); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(entries(t, dir)))
	if want := []string{"b.json", "c.json", "d.json"}; !slices.Equal(got, want) {
		t.Errorf("after eviction to 3 entries: %v, want %v", got, want)
	}
	// Each entry is 2 bytes.
	if err := c.evict(3, 4); err != nil {
		t.Fatal(err)
	}
	got = slices.Sorted(maps.Keys(entries(t, dir)))
	if want := []string{"c.json", "d.json"}; !slices.Equal(got, want) {
		t.Errorf("after eviction to 4 bytes: %v, want %v", got, want)
	}
}
