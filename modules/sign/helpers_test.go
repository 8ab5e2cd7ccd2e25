package sign

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pavedhq/paved/internal/testtools/testkeys"
	"github.com/pavedhq/paved/internal/testtools/testregistry"
)

// newRegistry starts an in-process registry on loopback and returns its
// host:port.
func newRegistry(t *testing.T) string { return testregistry.New(t) }

// pushIndex pushes a random two-platform index to host/repo and returns its
// digest reference and the index.
func pushIndex(t *testing.T, host, repo string) (name.Digest, v1.ImageIndex) {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(host + "/" + repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref, idx
}

// manifests returns the digests of the manifests idx lists.
func manifests(t *testing.T, ref name.Digest, idx v1.ImageIndex) []name.Digest {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []name.Digest
	for _, m := range im.Manifests {
		out = append(out, ref.Context().Digest(m.Digest.String()))
	}
	return out
}

type keyPair = testkeys.Pair

// newKeyPair generates a cosign key pair encrypted with password.
func newKeyPair(t *testing.T, password string) keyPair { return testkeys.New(t, password) }

func loadKey(t *testing.T, kp keyPair) *Signer {
	t.Helper()
	s, err := LoadKey(context.Background(), kp.Priv, kp.Password)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// rawManifest puts a hand-edited manifest with remote.Put.
type rawManifest struct{ m *v1.Manifest }

func (r rawManifest) RawManifest() ([]byte, error) { return json.Marshal(r.m) }
func (r rawManifest) MediaType() (types.MediaType, error) {
	return r.m.MediaType, nil
}

func readLayer(t *testing.T, l v1.Layer) string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func staticLayer(body string, mt types.MediaType) v1.Layer {
	return static.NewLayer([]byte(body), mt)
}

func emptyImage() v1.Image { return empty.Image }

// newEchoServer answers every request with 400 and the request's
// Authorization header in the body.
func newEchoServer(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token: "+r.Header.Get("Authorization"), http.StatusBadRequest)
	}))
	t.Cleanup(s.Close)
	return s.URL
}
