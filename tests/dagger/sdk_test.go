package daggertest

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// sdkContent returns the OCI layout the engine reads the Go SDK's image
// from, and the image's manifest digest: with no registry, the engine
// cannot pull the golang image the Go SDK runs in. One layer holds a
// static busybox, the host's Go toolchain, the engine's codegen and the
// SDK's module dependencies. Built once per Dagger and Go version into the
// tool cache beside the binaries.
// sdkContentRevision changes whenever what sdkContent lays changes, so a
// cached image of an older harness is not reused.
const sdkContentRevision = "2"

func sdkContent(t *testing.T, tools, version string) (dir, digest string) {
	t.Helper()
	goroot, gover := goEnv(t, "GOROOT"), goEnv(t, "GOVERSION")
	dir = filepath.Join(tools, "go-sdk-content-"+gover+"-"+sdkContentRevision)
	if b, err := os.ReadFile(filepath.Join(dir, "manifest-digest")); err == nil {
		return dir, strings.TrimSpace(string(b))
	}
	tmp, err := os.MkdirTemp(tools, "go-sdk-content-build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	// The SDK's modules: first into the host's module cache (the engine's
	// GOPROXY serves that), then into the image's from there.
	sdk := filepath.Join(tmp, "sdk")
	run(t, nil, "", "go", "mod", "download", "-json", "dagger.io/dagger@"+version, "gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405")
	sdkSrc := filepath.Join(goEnv(t, "GOMODCACHE"), "dagger.io", "dagger@"+version)
	run(t, nil, "", "cp", "-r", sdkSrc, sdk)
	run(t, nil, "", "chmod", "-R", "u+w", sdk)
	downloadGraph(t, sdk)
	modcache := filepath.Join(tmp, "gomod")
	proxy := "file://" + filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download")
	env := []string{"GOMODCACHE=" + modcache, "GOPROXY=" + proxy, "GOSUMDB=off", "GOFLAGS=-mod=mod"}
	run(t, env, sdk, "go", "mod", "download")
	run(t, env, "", "go", "mod", "download", "gopkg.in/check.v1@v0.0.0-20161208181325-20d25e280405")

	layerPath := filepath.Join(tmp, "layer.tar")
	f, err := os.Create(layerPath)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("busybox is not installed (apt-get install busybox-static; .ci/run installs it)")
	}
	addFile(t, tw, busybox, "bin/busybox", 0o755)
	applets, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, a := range strings.Fields(string(applets)) {
		if a != "busybox" {
			addLink(t, tw, "busybox", "bin/"+a)
		}
	}
	addFile(t, tw, filepath.Join(tools, "codegen"), "usr/local/bin/codegen", 0o755)
	addTree(t, tw, goroot, "usr/local/go")
	addTree(t, tw, modcache, "go/pkg/mod")
	addDir(t, tw, "tmp", 0o1777)
	// The engine seeds the SDK's Go build cache volume from this directory.
	addDir(t, tw, "root", 0o700)
	addDir(t, tw, "root/.cache", 0o755)
	addDir(t, tw, "root/.cache/go-build", 0o755)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	layer, err := tarball.LayerFromFile(layerPath, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, v1.Config{
		Env: []string{"PATH=/go/bin:/usr/local/go/bin:/usr/local/bin:/bin", "GOPATH=/go",
			"GOTOOLCHAIN=local", "GOSUMDB=off", "GOFLAGS=-mod=mod"},
		WorkingDir: "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, "application/vnd.oci.image.manifest.v1+json")
	img = mutate.ConfigMediaType(img, "application/vnd.oci.image.config.v1+json")
	out := filepath.Join(tmp, "layout")
	p, err := layout.Write(out, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest-digest"), []byte(d.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out, dir); err != nil {
		t.Fatal(err)
	}
	return dir, d.String()
}

// downloadGraph puts every module of dir's module graph into the host's
// module cache, which the engine's GOPROXY serves: the Go SDK's codegen runs
// `go mod tidy`, which reads modules that a plain download skips (those
// that only tests of dependencies import).
// It works on a copy of dir's go.mod and go.sum: listing the graph adds
// sums, and a test leaves the tree as it found it.
func downloadGraph(t *testing.T, dir string) {
	t.Helper()
	cp := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil && !(f == "go.sum" && errors.Is(err, fs.ErrNotExist)) {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cp, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir = cp
	cmd := exec.Command("go", "list", "-m", "-f", "{{if not .Main}}{{.Path}}@{{.Version}}{{end}}", "all")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m all in %s: %v", dir, err)
	}
	mods := strings.Fields(string(out))
	if len(mods) == 0 {
		return
	}
	run(t, []string{"GOFLAGS=-mod=mod"}, dir, "go", append([]string{"mod", "download"}, mods...)...)
}

func run(t *testing.T, env []string, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out))
	}
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func addDir(t *testing.T, tw *tar.Writer, name string, mode int64) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}); err != nil {
		t.Fatal(err)
	}
}

func addLink(t *testing.T, tw *tar.Writer, target, name string) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}); err != nil {
		t.Fatal(err)
	}
}

func addFile(t *testing.T, tw *tar.Writer, src, name string, mode int64) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: fi.Size()}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		t.Fatal(err)
	}
}

// addTree adds the tree at src under name, keeping modes and symlinks.
func addTree(t *testing.T, tw *tar.Writer, src, name string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		dst := filepath.ToSlash(filepath.Join(name, rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dst + "/", Mode: int64(info.Mode().Perm() | 0o200)})
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: dst, Linkname: target, Mode: 0o777})
		case info.Mode().IsRegular():
			addFile(t, tw, path, dst, int64(info.Mode().Perm()))
			return nil
		}
		return fmt.Errorf("%s: unsupported file type %s", path, info.Mode().Type())
	})
	if err != nil {
		t.Fatal(err)
	}
}
