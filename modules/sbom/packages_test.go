package sbom

import (
	"context"
	"slices"
	"testing"

	"github.com/anchore/syft/syft/pkg"
	"github.com/google/go-cmp/cmp"
)

// TestPackagesAsCatalogued: Packages finds in the example image what the
// SBOM's full catalogue lists for the same catalogers (the Go binary's
// modules and standard library, with their build information), and
// nothing else.
func TestPackagesAsCatalogued(t *testing.T) {
	img := exampleImage(t, amd64)
	ctx := context.Background()
	in, err := Packages(ctx, img, exampleRef)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Unread) != 0 {
		t.Errorf("unread: %q", in.Unread)
	}
	full, err := catalogImage(ctx, img, exampleRef, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, c := range installedCatalogers() {
		names[c.Name()] = true
	}
	summary := func(ps []pkg.Package) []string {
		var out []string
		for _, p := range ps {
			out = append(out, string(p.Type)+" "+p.Name+" "+p.Version+" "+p.PURL)
			if _, ok := p.Metadata.(pkg.GolangBinaryBuildinfoEntry); !ok {
				t.Errorf("%s %s: metadata %T, want the binary's build information", p.Name, p.Version, p.Metadata)
			}
		}
		slices.Sort(out)
		return out
	}
	var want []pkg.Package
	for _, p := range full.Artifacts.Packages.Sorted() {
		if names[p.FoundBy] {
			// The SBOM's compliance rules write a missing version (the
			// main module's) as UNKNOWN; the catalogers leave it empty.
			if p.Version == "UNKNOWN" {
				p.Version = ""
			}
			want = append(want, p)
		}
	}
	got := summary(in.Packages)
	if len(got) < 3 {
		t.Fatalf("Packages found %q, want the example's modules and the standard library", got)
	}
	if diff := cmp.Diff(summary(want), got); diff != "" {
		t.Errorf("packages (-catalogue +Packages):\n%s", diff)
	}
}
