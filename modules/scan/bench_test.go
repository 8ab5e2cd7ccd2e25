package scan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pavedhq/paved/internal/testtools/cputime"
	"github.com/pavedhq/paved/modules/build"
)

// BenchmarkRunExample scans the example service as the golden path would:
// its linux/amd64 and linux/arm64 image with Trivy and its source with
// govulncheck, air-gapped, against the test databases (whose invented
// advisory on github.com/google/uuid v1.6.0 fails the gate).
func BenchmarkRunExample(b *testing.B) {
	ctx := context.Background()
	src := copyService(b, filepath.Join("..", "..", "examples", "go-service"))
	idx, err := build.Go(ctx, build.Options{Dir: src})
	if err != nil {
		b.Fatal(err)
	}
	db := airGapped(b)
	opts := Options{DBDir: db}
	for _, bb := range []struct {
		name string
		in   Input
	}{
		{"both", Input{Index: idx, Source: src}},
		{"trivy", Input{Index: idx}},
		{"govulncheck", Input{Source: src}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var ge *GateError
			start := cputime.Used(b)
			for b.Loop() {
				if _, err := Run(ctx, bb.in, opts); !errors.As(err, &ge) {
					b.Fatalf("Run: %v, want the gate to fail on %s", err, critCVE)
				}
			}
			// CPU time (this process and the go commands it waited
			// for) says more than wall time on a shared machine.
			b.ReportMetric((cputime.Used(b)-start).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkRunExampleEdited scans the example service after a one-line
// change of its source, as the golden path's warm run does, against
// databases under which it imports no vulnerable package (an invented
// advisory on a package of github.com/google/uuid it does not import), so
// govulncheck needs no call graph.
func BenchmarkRunExampleEdited(b *testing.B) {
	ctx := context.Background()
	src := copyService(b, filepath.Join("..", "..", "examples", "go-service"))
	idx, err := build.Go(ctx, build.Options{Dir: src})
	if err != nil {
		b.Fatal(err)
	}
	db := b.TempDir()
	writeTrivyDB(b, db, time.Now().UTC().Truncate(time.Second))
	writeGoVulnDBOf(b, db, "2025-01-02T03:04:05Z", []goAdvisory{unimported})
	main := filepath.Join(src, "main.go")
	orig, err := os.ReadFile(main)
	if err != nil {
		b.Fatal(err)
	}
	edits := 0
	edit := func() {
		edits++
		line := []byte("\nvar edit = " + strconv.Itoa(edits) + "\n")
		if err := os.WriteFile(main, append(slices.Clip(orig), line...), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct {
		name string
		in   Input
	}{
		{"both", Input{Index: idx, Source: src}},
		{"govulncheck", Input{Source: src}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			opts := Options{DBDir: db}
			runs := callGraphRuns.Load()
			start := cputime.Used(b)
			for b.Loop() {
				b.StopTimer()
				edit()
				b.StartTimer()
				// Trivy finds the test database's advisories on uuid in
				// the binaries, and fails the gate.
				rep, err := Run(ctx, bb.in, opts)
				if err != nil && !errors.As(err, new(*GateError)) {
					b.Fatal(err)
				}
				var source []string
				for _, f := range rep.Findings {
					if f.Scanner == Govulncheck {
						source = append(source, f.ID)
					}
				}
				if !slices.Equal(source, []string{otherGO}) {
					b.Fatalf("govulncheck's findings %q, want %s alone", source, otherGO)
				}
			}
			b.ReportMetric((cputime.Used(b)-start).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(callGraphRuns.Load()-runs)/float64(b.N), "callgraph-runs/op")
		})
	}
}

// copyService copies a service's Go sources, so that scanning it cannot
// touch the original (the go command may tidy go.mod).
func copyService(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if n := d.Name(); !strings.HasSuffix(n, ".go") && n != "go.mod" && n != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
