package build

import (
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

var created = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func TestGo(t *testing.T) {
	ctx := context.Background()
	dir := fixture(t, fixtureMain)
	anns := map[string]string{"org.opencontainers.image.source": "https://example.com/hello"}
	idx, err := Go(ctx, Options{Dir: dir, Created: created, Version: "1.2.3", Annotations: anns, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, idx)

	baseDigest, err := Minimal().Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex {
		t.Errorf("index media type = %s", im.MediaType)
	}
	wantIdxAnns := map[string]string{
		"org.opencontainers.image.source": "https://example.com/hello",
		AnnotationCreated:                 "2024-05-06T07:08:09Z",
		AnnotationBaseName:                MinimalName,
		AnnotationBaseDigest:              baseDigest.String(),
	}
	if diff := cmp.Diff(wantIdxAnns, im.Annotations); diff != "" {
		t.Errorf("index annotations (-want +got):\n%s", diff)
	}
	var platforms []v1.Platform
	for _, d := range im.Manifests {
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %s media type = %s", d.Digest, d.MediaType)
		}
		platforms = append(platforms, *d.Platform)
	}
	if diff := cmp.Diff(DefaultPlatforms, platforms); diff != "" {
		t.Fatalf("platforms (-want +got):\n%s", diff)
	}

	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, d := range im.Manifests {
		p := *d.Platform
		t.Run(p.String(), func(t *testing.T) {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			base, err := Minimal().Image(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			wantAnns := map[string]string{
				"org.opencontainers.image.source": "https://example.com/hello",
				AnnotationCreated:                 "2024-05-06T07:08:09Z",
				AnnotationBaseName:                MinimalName,
				AnnotationBaseDigest:              digestOf(t, base).String(),
			}
			if diff := cmp.Diff(wantAnns, m.Annotations); diff != "" {
				t.Errorf("manifest annotations (-want +got):\n%s", diff)
			}
			if m.Config.MediaType != types.OCIConfigJSON {
				t.Errorf("config media type = %s", m.Config.MediaType)
			}
			for _, l := range m.Layers {
				if l.MediaType != types.OCILayer {
					t.Errorf("layer %s media type = %s", l.Digest, l.MediaType)
				}
			}

			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			want := v1.Config{
				Entrypoint: []string{"/app/hello"},
				User:       "65532:65532",
				WorkingDir: "/",
				Env:        []string{defaultPath, "SSL_CERT_FILE=" + caFile},
				Labels:     wantAnns,
			}
			if diff := cmp.Diff(want, cf.Config); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if cf.OS != p.OS || cf.Architecture != p.Architecture {
				t.Errorf("config platform = %s/%s, want %s", cf.OS, cf.Architecture, p)
			}
			if !cf.Created.Time.Equal(created) {
				t.Errorf("config created = %v, want %v", cf.Created, created)
			}
			for i, h := range cf.History {
				if !h.Created.Time.Equal(created) {
					t.Errorf("history[%d] created = %v, want %v", i, h.Created, created)
				}
			}

			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != 2 {
				t.Fatalf("got %d layers, want base + app", len(layers))
			}
			files := readLayer(t, layers[1])
			wantFiles := []tarFile{
				{Name: "app/", Type: '5', Mode: 0o755, ModTime: created},
				{Name: "app/hello", Type: '0', Mode: 0o755, ModTime: created},
			}
			if diff := cmp.Diff(wantFiles, files, cmp.AllowUnexported(tarFile{}), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".data"
			}, cmp.Ignore())); diff != "" {
				t.Errorf("app layer (-want +got):\n%s", diff)
			}
			bin := filepath.Join(t.TempDir(), "hello")
			if err := os.WriteFile(bin, files[1].data, 0o755); err != nil {
				t.Fatal(err)
			}
			ef, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer ef.Close()
			if ef.Machine != machines[p.Architecture] {
				t.Errorf("binary machine = %v, want %v", ef.Machine, machines[p.Architecture])
			}
		})
	}
}

// TestGoBinaryRuns extracts the amd64 binary from the flattened image and
// runs it: the version passed to Go must reach main.version.
func TestGoBinaryRuns(t *testing.T) {
	// Skipped even in CI on other hosts: nothing can run the binary there.
	if !platformMatches(v1.Platform{OS: "linux", Architecture: "amd64"}, hostPlatform()) {
		t.Skipf("needs a linux/amd64 host, have %s", hostPlatform())
	}
	dir := fixture(t, fixtureMain)
	idx, err := Go(context.Background(), Options{Dir: dir, Platforms: []v1.Platform{amd64}, Version: "v9 beta", Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	img := imageFor(t, idx, amd64)
	files := readLayer(t, flatten(t, img))
	f, ok := findFile(files, "app/hello")
	if !ok {
		t.Fatal("app/hello not in image")
	}
	bin := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(bin, f.data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	if got, want := string(out), "hello v9 beta\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
	// The base's files are there too.
	for _, n := range []string{"etc/passwd", "etc/ssl/certs/ca-certificates.crt", "tmp"} {
		if _, ok := findFile(files, n); !ok {
			t.Errorf("%s missing from flattened image", n)
		}
	}
}

// TestGoReproducible builds the same source with two empty build caches, so
// nothing but the source and options can make the digests equal; the
// default platforms are rebuilt with the shared cache.
func TestGoReproducible(t *testing.T) {
	ctx := context.Background()
	dir := fixture(t, fixtureMain)
	build := func(created time.Time, platforms []v1.Platform, cache string) v1.Hash {
		env := offlineEnv
		if cache != "" {
			env = append(append([]string(nil), offlineEnv...), "GOCACHE="+cache)
		}
		idx, err := Go(ctx, Options{Dir: dir, Created: created, Platforms: platforms, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		return digestOf(t, idx)
	}

	t.Run("default platforms", func(t *testing.T) {
		first := build(created, nil, "")
		if second := build(created, nil, ""); first != second {
			t.Errorf("same source and options, different digests: %s and %s", first, second)
		}
		if later := build(created.Add(time.Hour), nil, ""); later == first {
			t.Errorf("a different Created kept digest %s", first)
		}
	})
	t.Run("empty build caches", func(t *testing.T) {
		if testing.Short() {
			ci.Unavailable(t, "-short: compiles the runtime twice")
		}
		one := []v1.Platform{amd64}
		if a, b := build(created, one, t.TempDir()), build(created, one, t.TempDir()); a != b {
			t.Errorf("builds with separate GOCACHEs differ: %s and %s", a, b)
		}
	})
}

func TestGoCompileError(t *testing.T) {
	dir := fixture(t, "package main\n\nfunc main() { undefinedThing() }\n")
	_, err := Go(context.Background(), Options{Dir: dir, Platforms: []v1.Platform{arm64}, Env: offlineEnv})
	if err == nil {
		t.Fatal("Go succeeded on a broken program")
	}
	for _, want := range []string{"undefined: undefinedThing", "linux/arm64"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestGoOptions(t *testing.T) {
	dir := fixture(t, fixtureMain)
	// A main package in a subdirectory is named after it.
	sub := filepath.Join(dir, "cmd", "greeter")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "main.go"), []byte(fixtureMain), 0o644); err != nil {
		t.Fatal(err)
	}
	armv7 := v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}
	tests := []struct {
		name      string
		opts      Options
		wantEntry string
		wantErr   string
	}{
		{name: "main in subdir", opts: Options{Dir: dir, Main: "cmd/greeter", Platforms: []v1.Platform{amd64}}, wantEntry: "/app/greeter"},
		{name: "explicit name and arm/v7", opts: Options{Dir: dir, Name: "svc", Platforms: []v1.Platform{armv7}}, wantEntry: "/app/svc"},
		{name: "bad name", opts: Options{Dir: dir, Name: "a/b"}, wantErr: `invalid binary name "a/b"`},
		{name: "duplicate platform", opts: Options{Dir: dir, Platforms: []v1.Platform{amd64, amd64}}, wantErr: "listed twice"},
		{name: "missing package", opts: Options{Dir: dir, Main: "nope", Platforms: []v1.Platform{amd64}}, wantErr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Env = offlineEnv
			idx, err := Go(context.Background(), tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustValidateIndex(t, idx)
			for _, p := range tt.opts.Platforms {
				cf, err := imageFor(t, idx, p).ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{tt.wantEntry}, cf.Config.Entrypoint); diff != "" {
					t.Errorf("entrypoint (-want +got):\n%s", diff)
				}
				if cf.Variant != p.Variant {
					t.Errorf("variant = %q, want %q", cf.Variant, p.Variant)
				}
			}
		})
	}
}

func TestQuoteFlag(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "main.version=1.2.3", want: "main.version=1.2.3"},
		{in: "main.version=v1 beta", want: "'main.version=v1 beta'"},
		{in: `main.version=it's`, want: `"main.version=it's"`},
		{in: `main.version='a' "b"`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := quoteFlag(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("quoteFlag(%q) = %q, %v; want %q (error: %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestGoHostLast checks that compiling the host's platform last changes
// nothing in the image, and that a failing platform does not leave the
// host's compile waiting.
func TestGoHostLast(t *testing.T) {
	ctx := context.Background()
	host := hostPlatform()
	other := arm64
	if host.Architecture == "arm64" {
		other = amd64
	}
	dir := fixture(t, fixtureMain)
	platforms := []v1.Platform{host, other}
	a, err := Go(ctx, Options{Dir: dir, Created: created, Platforms: platforms, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Go(ctx, Options{Dir: dir, Created: created, Platforms: platforms, Env: offlineEnv, HostLast: true})
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, a) != digestOf(t, b) {
		t.Error("HostLast changed the image")
	}

	// Broken only for the other platform: its failure must end the build.
	broken := fixture(t, fixtureMain)
	os.WriteFile(filepath.Join(broken, "broken_"+other.Architecture+".go"), []byte("package main\n\nfunc init() { undefinedThing() }\n"), 0o644)
	done := make(chan error, 1)
	go func() {
		_, err := Go(ctx, Options{Dir: broken, Created: created, Platforms: platforms, Env: offlineEnv, HostLast: true})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), other.String()) {
			t.Fatalf("err = %v, want the %s compile error", err, other)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the host platform's compile waited forever for a failed platform")
	}
}
