package build

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// multiArchBase is an index of the minimal base for amd64 and arm64.
func multiArchBase(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range []v1.Platform{amd64, arm64} {
		img, err := Minimal().Image(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

// dockerBase is a single linux/amd64 image with Docker media types, like
// many images on registries.
func dockerBase(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(256, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/custom/bin", "LANG=C.UTF-8"}
	cf.Config.Cmd = []string{"/bin/sh"}
	cf.History = []v1.History{{CreatedBy: "layer one"}, {CreatedBy: "layer two"}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := img.MediaType(); mt != types.DockerManifestSchema2 {
		t.Fatalf("random image has media type %s, want a Docker one", mt)
	}
	return img
}

func push(t *testing.T, ref string, v remote.Taggable) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	switch v := v.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(r, v)
	case v1.Image:
		err = remote.Write(r, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoteIndex(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	idx := multiArchBase(t)
	base := Remote(push(t, host+"/base:latest", idx))

	got, err := base.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := digestOf(t, idx); got != want {
		t.Errorf("Digest = %s, want the index digest %s", got, want)
	}
	for _, p := range []v1.Platform{amd64, arm64} {
		img, err := base.Image(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Minimal().Image(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if digestOf(t, img) != digestOf(t, want) {
			t.Errorf("%s: got image %s, want %s", p, digestOf(t, img), digestOf(t, want))
		}
	}
	_, err = base.Image(ctx, v1.Platform{OS: "linux", Architecture: "s390x"})
	if !errors.Is(err, ErrPlatform) || !strings.Contains(err.Error(), "linux/s390x") {
		t.Errorf("missing platform: err = %v, want ErrPlatform naming linux/s390x", err)
	}
}

func TestRemotePinsDigest(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	first := multiArchBase(t)
	base := Remote(push(t, host+"/base:moving", first))
	d1, err := base.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The tag moves to a single image; the base keeps the index it resolved.
	push(t, host+"/base:moving", dockerBase(t))
	d2, err := base.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("digest changed from %s to %s after the tag moved", d1, d2)
	}
	if _, err := base.Image(ctx, arm64); err != nil {
		t.Errorf("Image(arm64) after the tag moved: %v", err)
	}
}

func TestRemoteDockerImage(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	bimg := dockerBase(t)
	ref := push(t, host+"/docker:1", bimg)
	base := Remote(ref)

	if _, err := base.Image(ctx, arm64); !errors.Is(err, ErrPlatform) {
		t.Errorf("arm64 from an amd64 image: err = %v, want ErrPlatform", err)
	}

	idx, err := Go(ctx, Options{Dir: fixture(t, fixtureMain), Base: base, Platforms: []v1.Platform{amd64}, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, idx)
	img := imageFor(t, idx, amd64)
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types %s, %s; want OCI", m.MediaType, m.Config.MediaType)
	}
	var mts []types.MediaType
	for _, l := range m.Layers {
		mts = append(mts, l.MediaType)
	}
	if diff := cmp.Diff([]types.MediaType{types.OCILayer, types.OCILayer, types.OCILayer}, mts); diff != "" {
		t.Errorf("layer media types (-want +got):\n%s", diff)
	}
	// The base's layers are reused as they are.
	bl, err := bimg.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range bl {
		if m.Layers[i].Digest != digestOf(t, l) {
			t.Errorf("layer %d = %s, want the base's %s", i, m.Layers[i].Digest, digestOf(t, l))
		}
	}
	if got, want := m.Annotations[AnnotationBaseDigest], digestOf(t, bimg).String(); got != want {
		t.Errorf("base digest annotation = %s, want %s", got, want)
	}
	if got, want := m.Annotations[AnnotationBaseName], ref.String(); got != want {
		t.Errorf("base name annotation = %s, want %s", got, want)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	// The base's PATH is kept, the CA path added, Cmd dropped.
	if diff := cmp.Diff([]string{"PATH=/custom/bin", "LANG=C.UTF-8", "SSL_CERT_FILE=" + caFile}, cf.Config.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if cf.Config.Cmd != nil {
		t.Errorf("cmd = %q, want none", cf.Config.Cmd)
	}
	if len(cf.History) != 3 || cf.History[0].CreatedBy != "layer one" {
		t.Errorf("history = %+v, want the base's two entries and paved's", cf.History)
	}
}

func TestLayoutBase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	idx := multiArchBase(t)
	if err := WriteLayout(dir, idx); err != nil {
		t.Fatal(err)
	}
	base, err := ParseBase("oci:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	img, err := base.Image(ctx, arm64)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != "arm64" {
		t.Errorf("architecture = %s, want arm64", cf.Architecture)
	}

	// Naming one entry by digest picks that image only.
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	amdDigest := im.Manifests[0].Digest
	base, err = ParseBase("oci:" + dir + "@" + amdDigest.String())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := base.Digest(ctx); err != nil || got != amdDigest {
		t.Errorf("Digest = %s, %v; want %s", got, err, amdDigest)
	}
	if _, err := base.Image(ctx, arm64); !errors.Is(err, ErrPlatform) {
		t.Errorf("arm64 from the amd64 entry: err = %v, want ErrPlatform", err)
	}
	gidx, err := Go(ctx, Options{Dir: fixture(t, fixtureMain), Base: base, Platforms: []v1.Platform{amd64}, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, gidx)

	base, err = ParseBase("oci:" + dir + "@sha256:" + strings.Repeat("0", 64))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.Digest(ctx); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("unknown digest: err = %v, want one naming %s", err, dir)
	}
}

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		have, want v1.Platform
		match      bool
	}{
		{amd64, amd64, true},
		{amd64, arm64, false},
		{v1.Platform{OS: "windows", Architecture: "amd64"}, amd64, false},
		{v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, arm64, true},
		{arm64, v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, true},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, true},
	}
	for _, tt := range tests {
		if got := platformMatches(tt.have, tt.want); got != tt.match {
			t.Errorf("platformMatches(%s, %s) = %v, want %v", tt.have, tt.want, got, tt.match)
		}
	}
}
