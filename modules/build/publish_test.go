package build

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// builtIndex is a small service index built once per test.
func builtIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	idx, err := Go(context.Background(), Options{Dir: fixture(t, fixtureMain), Created: created, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// countingRegistry is an in-process registry that counts blob uploads and
// can fail the first few manifest writes.
type countingRegistry struct {
	uploads      atomic.Int32
	failManifest atomic.Int32
	h            http.Handler
}

func (c *countingRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
		c.uploads.Add(1)
	}
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && c.failManifest.Add(-1) >= 0 {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	c.h.ServeHTTP(w, r)
}

func TestPublishRegistry(t *testing.T) {
	ctx := context.Background()
	reg := &countingRegistry{h: registry.New(registry.Logger(discardLogger()))}
	s := httptest.NewServer(reg)
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.URL, "http://")

	idx := builtIndex(t)
	d := digestOf(t, idx)
	target, err := ParseTarget(host + "/team/hello")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Published(ctx, target, d); err != nil || ok {
		t.Fatalf("Published before publishing = %v, %v; want false", ok, err)
	}

	// Two 503s on manifest writes are retried away.
	reg.failManifest.Store(2)
	ref, err := Publish(ctx, idx, target, []string{"v1", "latest"})
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/team/hello@" + d.String(); ref != want {
		t.Errorf("Publish = %q, want %q", ref, want)
	}
	if n := reg.failManifest.Load(); n >= 0 {
		t.Errorf("%d of the failing manifest writes were never attempted", n+1)
	}
	if reg.uploads.Load() == 0 {
		t.Error("no blobs were uploaded")
	}
	for _, r := range []string{ref, host + "/team/hello:v1", host + "/team/hello:latest"} {
		pr, err := name.ParseReference(r)
		if err != nil {
			t.Fatal(err)
		}
		pulled, err := remote.Index(pr)
		if err != nil {
			t.Fatalf("pulling %s: %v", r, err)
		}
		if got := digestOf(t, pulled); got != d {
			t.Errorf("%s has digest %s, want %s", r, got, d)
		}
		mustValidateIndex(t, pulled)
	}
	if ok, err := Published(ctx, target, d); err != nil || !ok {
		t.Errorf("Published after publishing = %v, %v; want true", ok, err)
	}

	// Publishing again uploads nothing: every blob is there.
	reg.uploads.Store(0)
	if _, err := Publish(ctx, idx, target, []string{"v2"}); err != nil {
		t.Fatal(err)
	}
	if n := reg.uploads.Load(); n != 0 {
		t.Errorf("republishing uploaded %d blobs, want 0", n)
	}

	if _, err := Publish(ctx, idx, target, []string{"bad tag"}); err == nil || !strings.Contains(err.Error(), "bad tag") {
		t.Errorf("invalid tag: err = %v", err)
	}
}

func TestPublishUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	idx, err := random.Index(64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	target, err := ParseTarget(addr + "/gone")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_, err = Publish(ctx, idx, target, []string{"v1"})
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("Publish to an unreachable registry took %s", took)
	}
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("err = %v, want one naming %s", err, addr)
	}
	t.Logf("error: %v", err)
	if _, err := Published(ctx, target, digestOf(t, idx)); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Published: err = %v, want one naming %s", err, addr)
	}
}

func TestPublishLayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out")
	target, err := ParseTarget("oci:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	first, err := random.Index(64, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	second := builtIndex(t)
	d1, d2 := digestOf(t, first), digestOf(t, second)

	if ok, err := Published(ctx, target, d1); err != nil || ok {
		t.Fatalf("Published on a missing layout = %v, %v; want false", ok, err)
	}
	ref, err := Publish(ctx, first, target, []string{"latest"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "oci:" + dir + "@" + d1.String(); ref != want {
		t.Errorf("Publish = %q, want %q", ref, want)
	}
	// The tag moves to the second index; the first stays untagged only if
	// published untagged.
	if _, err := Publish(ctx, second, target, []string{"latest"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, second, target, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, second, target, nil); err != nil {
		t.Fatal(err)
	}

	type entry struct {
		Digest v1.Hash
		Tag    string
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []entry
	for _, desc := range im.Manifests {
		got = append(got, entry{desc.Digest, desc.Annotations[AnnotationRefName]})
	}
	// Untagged publishing of an index already in the layout adds nothing.
	if diff := cmp.Diff([]entry{{d2, "latest"}}, got); diff != "" {
		t.Errorf("index.json entries (-want +got):\n%s", diff)
	}
	pub, err := ii.ImageIndex(d2)
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, pub)
	for _, c := range []struct {
		d    v1.Hash
		want bool
	}{{d1, false}, {d2, true}} {
		if ok, err := Published(ctx, target, c.d); err != nil || ok != c.want {
			t.Errorf("Published(%s) = %v, %v; want %v", c.d, ok, err, c.want)
		}
	}

	// A layout that cannot be created is an error naming it.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, second, LayoutTarget{Dir: file}, nil); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("err = %v, want one naming %s", err, file)
	}
}

func TestWriteReadLayout(t *testing.T) {
	dir := t.TempDir()
	idx := builtIndex(t)
	if err := WriteLayout(dir, idx); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, got) != digestOf(t, idx) {
		t.Errorf("read back %s, wrote %s", digestOf(t, got), digestOf(t, idx))
	}
	mustValidateIndex(t, got)

	missing := filepath.Join(dir, "missing")
	if _, err := ReadLayout(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("err = %v, want one naming %s", err, missing)
	}
}
