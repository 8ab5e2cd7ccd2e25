package testtools

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// RegistryContents reads every tagged manifest in the registry at host,
// the manifests they list and every blob they name, keyed by REPO@DIGEST,
// so tests can look for what must never be pushed.
func RegistryContents(t testing.TB, host string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	reg, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := remote.Catalog(context.Background(), reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos {
		repo := reg.Repo(r)
		tags, err := remote.List(repo)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags {
			walkManifest(t, repo.Tag(tag), out)
		}
	}
	return out
}

func walkManifest(t testing.TB, ref name.Reference, out map[string][]byte) {
	t.Helper()
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	key := ref.Context().Digest(desc.Digest.String()).String()
	if _, seen := out[key]; seen {
		return
	}
	out[key] = desc.Manifest
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range im.Manifests {
			walkManifest(t, ref.Context().Digest(m.Digest.String()), out)
		}
		return
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append(m.Layers, m.Config) {
		out[ref.Context().Digest(d.Digest.String()).String()] = blob(t, ref.Context().Digest(d.Digest.String()))
	}
}

func blob(t testing.TB, d name.Digest) []byte {
	t.Helper()
	u := "http://" + d.RegistryStr() + "/v2/" + d.RepositoryStr() + "/blobs/" + d.DigestStr()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return b
}
