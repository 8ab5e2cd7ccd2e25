package sbom

import (
	"context"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
			start := cpuTime(b)
			for b.Loop() {
				if _, err := Image(ctx, bb.img, exampleRef, b.TempDir()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime(b)-start).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// cpuTime is the user and system time of this process and of the children
// it has waited for.
func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			t.Fatal(err)
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
