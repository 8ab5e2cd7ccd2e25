package sbom

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/internal/testtools/cputime"
	"github.com/pavedhq/paved/modules/build"
)

// BenchmarkImageLayers catalogs the example's linux/amd64 image and its
// base alone (paved's minimal base): what cataloguing the base layer costs
// within the image's, which a layer cache could save at most.
func BenchmarkImageLayers(b *testing.B) {
	ctx := context.Background()
	base, err := build.Minimal().Image(ctx, amd64)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := licenseScanner(); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		img  v1.Image
	}{{"image", exampleImage(b, amd64)}, {"base", base}} {
		b.Run(bb.name, func(b *testing.B) {
			start := cputime.Used(b)
			for b.Loop() {
				if _, err := Image(ctx, bb.img, exampleRef, b.TempDir()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cputime.Used(b)-start).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
