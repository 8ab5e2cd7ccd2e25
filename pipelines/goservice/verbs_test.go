package goservice

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

	"github.com/pavedhq/paved/internal/testtools/testregistry"
	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

func TestParseRef(t *testing.T) {
	for _, bad := range []string{"", "localhost:5000/a/b", "localhost:5000/a/b:v1", "localhost:5000/a/b@sha256:abc", "UPPER/x@sha256:" + strings.Repeat("0", 64)} {
		_, err := ParseRef(bad)
		var ce *pipelines.ConfigError
		if !errors.As(err, &ce) || ce.Field != "REF" {
			t.Errorf("ParseRef(%q) = %v, want a ConfigError naming REF", bad, err)
		}
	}
	good := "localhost:5000/a/b@sha256:" + strings.Repeat("0", 64)
	if d, err := ParseRef(good); err != nil || d.String() != good {
		t.Errorf("ParseRef(%q) = %v, %v", good, d, err)
	}
}

func FuzzParseRef(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseRef(s)
		if err != nil {
			return
		}
		if _, err := name.NewDigest(d.String()); err != nil {
			t.Fatalf("%q parsed to %q, which does not parse back: %v", s, d, err)
		}
	})
}

// The pull step reads a published index or image by digest into a layout
// the supply-chain steps read as they read the build step's, and its value
// decodes as both the build's and the publish step's.
func TestPullStep(t *testing.T) {
	ctx := context.Background()
	reg := testregistry.New(t)
	repo, err := name.NewRepository(reg + "/verbs/app")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &arm}})
	idx = mutate.Annotations(idx, map[string]string{build.AnnotationBaseName: "paved.dev/minimal", build.AnnotationBaseDigest: "sha256:" + strings.Repeat("1", 64)}).(v1.ImageIndex)
	d, _ := idx.Digest()
	ref := repo.Digest(d.String())
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}

	s := &pullStep{ref: ref, layout: true}
	out := t.TempDir()
	res, err := s.Run(ctx, runner.Inputs{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	var pulled PulledValue
	var asImage ImageValue
	var asPublished PublishValue
	for _, v := range []any{&pulled, &asImage, &asPublished} {
		if err := res.Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	want := PulledValue{Ref: ref.String(), Digest: d.String(), Platforms: []string{"linux/arm64"}, Base: "paved.dev/minimal", BaseDigest: "sha256:" + strings.Repeat("1", 64)}
	if diff := cmp.Diff(want, pulled); diff != "" {
		t.Errorf("value (-want +got):\n%s", diff)
	}
	if asImage.Digest != d.String() || asPublished.Ref != ref.String() {
		t.Errorf("read as the build's %+v and the publish step's %+v", asImage, asPublished)
	}
	got, err := build.ReadLayout(out + "/" + ImageLayoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if gd, _ := got.Digest(); gd != d {
		t.Errorf("layout holds %s, want %s", gd, d)
	}
	if ok, err := s.Revalidate(ctx, res); !ok || err != nil {
		t.Errorf("Revalidate = %v, %v with the image in place", ok, err)
	}

	// A single image is read as an index of one, its own platform.
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	single, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := single.Digest()
	sref := repo.Digest(sd.String())
	if err := remote.Write(sref, single); err != nil {
		t.Fatal(err)
	}
	res, err = (&pullStep{ref: sref}).Run(ctx, runner.Inputs{OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Decode(&pulled); err != nil || pulled.Digest != sd.String() || len(pulled.Platforms) != 1 || pulled.Platforms[0] != "linux/amd64" {
		t.Errorf("single image read as %+v, %v", pulled, err)
	}

	// An image the registry does not hold fails naming it.
	missing := repo.Digest("sha256:" + strings.Repeat("2", 64))
	if _, err := (&pullStep{ref: missing}).Run(ctx, runner.Inputs{OutDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), missing.String()) {
		t.Errorf("missing image: %v", err)
	}
}

// A verb that signs refuses to start without a signer, and one that reads
// an image refuses a reference without a digest, naming what is wrong.
func TestVerbUsage(t *testing.T) {
	ctx := context.Background()
	ref := "localhost:5000/a/b@sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		path  pipelines.Path
		o     pipelines.Options
		field string
	}{
		{Sign, pipelines.Options{Ref: ref}, "--key"},
		{Attest, pipelines.Options{Ref: ref}, "--key"},
		{SBOM, pipelines.Options{Ref: "localhost:5000/a/b:latest"}, "REF"},
		{Scan, pipelines.Options{}, "REF"},
		{SBOM, pipelines.Options{Ref: ref, Source: t.TempDir()}, "--source"},
	} {
		_, err := tc.path(ctx, tc.o)
		var ce *pipelines.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%+v: %v, want a ConfigError naming %s", tc.o, err, tc.field)
		}
	}
}
