package promote

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/pavedhq/paved/internal/testtools/testregistry"
	pavedregistry "github.com/pavedhq/paved/modules/registry"
)

func newRegistry(t *testing.T, referrers bool) string {
	return testregistry.New(t, registry.WithReferrersSupport(referrers))
}

// artifact is a small manifest standing for a signature, an attestation or
// a referrer; subject makes it an OCI 1.1 referrer.
func artifact(t *testing.T, subject *v1.Descriptor) v1.Image {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.dev.sigstore.bundle.v0.3+json")
	if subject != nil {
		img = mutate.Subject(img, *subject).(v1.Image)
	}
	return img
}

// pushSigned pushes a two-platform index with a cosign-layout signature on
// the index, an attestation on one platform manifest and an OCI referrer
// of the index.
func pushSigned(t *testing.T, host string) (name.Digest, v1.ImageIndex) {
	t.Helper()
	idx, err := random.Index(128, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	repo, _ := name.NewRepository(host + "/staging/api")
	d, _ := idx.Digest()
	ref := repo.Digest(d.String())
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	child := im.Manifests[0].Digest
	for tag, img := range map[string]v1.Image{
		fmt.Sprintf("sha256-%s.sig", d.Hex):     artifact(t, nil),
		fmt.Sprintf("sha256-%s.att", child.Hex): artifact(t, nil),
	} {
		if err := remote.Write(repo.Tag(tag), img); err != nil {
			t.Fatal(err)
		}
	}
	mt, _ := idx.MediaType()
	sz, _ := idx.Size()
	ref1 := artifact(t, &v1.Descriptor{MediaType: mt, Digest: d, Size: sz})
	rd, _ := ref1.Digest()
	if err := remote.Write(repo.Digest(rd.String()), ref1); err != nil {
		t.Fatal(err)
	}
	return ref, idx
}

func TestCopyCarriesSignaturesAttestationsAndReferrers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		srcAPI, dstAPI bool
	}{
		{"referrers API on both", true, true},
		{"tag fallback on both", false, false},
		{"API to tag fallback", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newRegistry(t, tc.srcAPI), newRegistry(t, tc.dstAPI)
			ref, idx := pushSigned(t, src)
			to, _ := name.NewRepository(dst + "/prod/api")
			got, err := Copy(context.Background(), ref, to)
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest.String() != ref.DigestStr() || got.Manifests != 3 {
				t.Errorf("copied %s with %d manifests", got.Digest, got.Manifests)
			}
			// Two cosign tags and one referrer.
			if len(got.Artifacts) != 3 {
				t.Errorf("artifacts %v, want 3", got.Artifacts)
			}
			copied, err := remote.Index(to.Digest(ref.DigestStr()))
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Index(copied); err != nil {
				t.Errorf("the copy is not whole: %v", err)
			}
			im, _ := idx.IndexManifest()
			d, _ := idx.Digest()
			for _, tag := range []string{"sha256-" + d.Hex + ".sig", "sha256-" + im.Manifests[0].Digest.Hex + ".att"} {
				if _, err := remote.Head(to.Tag(tag)); err != nil {
					t.Errorf("%s missing at the destination: %v", tag, err)
				}
			}
			refs, err := remote.Referrers(to.Digest(d.String()))
			if err != nil {
				t.Fatal(err)
			}
			rm, _ := refs.IndexManifest()
			if len(rm.Manifests) != 1 {
				t.Errorf("destination has %d referrers of the index, want 1", len(rm.Manifests))
			}
			tags, _ := remote.List(to)
			for _, tag := range tags {
				if tag == "latest" {
					t.Errorf("Copy set a tag: %v", tags)
				}
			}
			// Copying again changes nothing and does not fail.
			if _, err := Copy(context.Background(), ref, to); err != nil {
				t.Fatalf("second copy: %v", err)
			}
			again, _ := remote.Referrers(to.Digest(d.String()))
			if am, _ := again.IndexManifest(); len(am.Manifests) != 1 {
				t.Errorf("after a second copy %d referrers, want 1", len(am.Manifests))
			}
		})
	}
}

func TestCopySingleImageAndMissingSource(t *testing.T) {
	src, dst := newRegistry(t, false), newRegistry(t, false)
	img, _ := random.Image(256, 2)
	d, _ := img.Digest()
	from, _ := name.NewDigest(src + "/one/img@" + d.String())
	if err := remote.Write(from, img); err != nil {
		t.Fatal(err)
	}
	to, _ := name.NewRepository(dst + "/one/img")
	got, err := Copy(context.Background(), from, to)
	if err != nil || got.Manifests != 1 || len(got.Artifacts) != 0 {
		t.Fatalf("copy: %+v, %v", got, err)
	}
	if _, err := remote.Head(to.Digest(d.String())); err != nil {
		t.Fatal(err)
	}
	missing, _ := name.NewDigest(src + "/one/img@sha256:" + strings.Repeat("0", 64))
	if _, err := Copy(context.Background(), missing, to); err == nil || !strings.Contains(err.Error(), missing.String()) {
		t.Fatalf("copying a missing image: %v", err)
	}
}

func TestArtifactID(t *testing.T) {
	d, _ := name.NewDigest("registry.example:5000/team/api@sha256:" + strings.Repeat("a", 64))
	want := "pkg:oci/api@sha256:" + strings.Repeat("a", 64) + "?repository_url=registry.example:5000/team/api"
	if got := ArtifactID(d); got != want {
		t.Errorf("ArtifactID = %s", got)
	}
}

// TestCopyAttemptsAreBounded copies through a proxy that answers every
// manifest upload at the destination with 503, or every read of a source
// manifest with 404: an upload is sent registry.Attempts times in all
// (Copy used to repeat go-containerregistry's retries three times over, 15
// attempts), and a definite answer once.
func TestCopyAttemptsAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		match  func(*http.Request) bool
		status int
		want   int32
	}{
		{"manifest upload 503", func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/prod/api/manifests/")
		}, http.StatusServiceUnavailable, pavedregistry.Attempts},
		{"index read 404", func(r *http.Request) bool {
			return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/staging/api/manifests/sha256:")
		}, http.StatusNotFound, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := newRegistry(t, true)
			ref, _ := pushSigned(t, host)
			target, _ := url.Parse("http://" + host)
			proxy := httputil.NewSingleHostReverseProxy(target)
			var mu sync.Mutex
			sent := map[string]int32{} // by path: manifests are written in parallel
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.match(r) {
					mu.Lock()
					sent[r.URL.Path]++
					mu.Unlock()
					http.Error(w, http.StatusText(tc.status), tc.status)
					return
				}
				proxy.ServeHTTP(w, r)
			}))
			defer srv.Close()
			via := strings.TrimPrefix(srv.URL, "http://")
			from, _ := name.NewDigest(via + "/staging/api@" + ref.DigestStr())
			to, _ := name.NewRepository(via + "/prod/api")
			b := pavedregistry.Backoff
			b.Duration = time.Millisecond
			_, err := Copy(context.Background(), from, to, remote.WithRetryBackoff(b))
			var te *transport.Error
			if !errors.As(err, &te) || te.StatusCode != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			mu.Lock()
			defer mu.Unlock()
			for path, got := range sent {
				if got > tc.want {
					t.Errorf("%s sent %d times, want at most %d", path, got, tc.want)
				}
			}
			if slices.Max(slices.Collect(maps.Values(sent))) != tc.want {
				t.Errorf("sent %v, want one of them %d times", sent, tc.want)
			}
		})
	}
}
