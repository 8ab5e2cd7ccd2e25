package build

import (
	"archive/tar"
	"bytes"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/pavedhq/paved/internal/testtools/testregistry"
)

// fixtureMain imports nothing, so a build with an empty GOCACHE compiles
// little beyond the runtime. println writes to stderr.
const fixtureMain = `package main

var version = "dev"

func main() { println("hello " + version) }
`

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}
)

// fixture writes a Go module "example.com/hello" with the given main.go.
func fixture(t testing.TB, mainGo string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.22\n",
		"main.go": mainGo,
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// offlineEnv keeps the go command from reaching the network.
var offlineEnv = []string{"GOTOOLCHAIN=local", "GOPROXY=off", "GOFLAGS=-mod=mod"}

// newRegistry starts an in-process registry and returns its host:port.
func newRegistry(t *testing.T) string { return testregistry.New(t) }

func mustRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustValidateIndex(t *testing.T, idx v1.ImageIndex) {
	t.Helper()
	if err := validate.Index(idx); err != nil {
		t.Fatalf("validate.Index: %v", err)
	}
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// tarFile is what a test checks about one layer entry.
type tarFile struct {
	Name     string
	Type     byte
	Mode     int64
	Uid, Gid int
	Uname    string
	Gname    string
	ModTime  time.Time
	data     []byte
}

// readLayer lists a layer's tar entries in order.
func readLayer(t *testing.T, l v1.Layer) []tarFile {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []tarFile
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, tr); err != nil {
			t.Fatal(err)
		}
		out = append(out, tarFile{Name: h.Name, Type: h.Typeflag, Mode: h.Mode, Uid: h.Uid, Gid: h.Gid,
			Uname: h.Uname, Gname: h.Gname, ModTime: h.ModTime.UTC(), data: b.Bytes()})
	}
}

func findFile(files []tarFile, name string) (tarFile, bool) {
	for _, f := range files {
		if f.Name == name {
			return f, true
		}
	}
	return tarFile{}, false
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func hostPlatform() v1.Platform {
	return v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}

// imageFor returns the image for p from idx.
func imageFor(t *testing.T, idx v1.ImageIndex, p v1.Platform) v1.Image {
	t.Helper()
	img, err := imageForPlatform(idx, p)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// flatten returns an image's filesystem as one layer.
func flatten(t *testing.T, img v1.Image) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return mutate.Extract(img), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}
