package build

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ToolchainDir is where Options.Toolchain lays the Go toolchain.
const ToolchainDir = "/usr/local/go"

// ToolchainModule is the module the go command itself downloads toolchains
// from (GOTOOLCHAIN): one version per release and platform, whose zips the
// checksum database pins.
const ToolchainModule = "golang.org/toolchain"

var toolchainVersion = regexp.MustCompile(`^go1\.[0-9]+(\.[0-9]+|rc[0-9]+)?$`)

// ValidToolchain checks a Toolchain setting such as "go1.26.8".
func ValidToolchain(v string) error {
	if !toolchainVersion.MatchString(v) {
		return fmt.Errorf("toolchain %q: want a Go release such as go1.26.8", v)
	}
	return nil
}

// Toolchain is one platform's Go toolchain as the module proxy serves it.
type Toolchain struct {
	Module string // golang.org/toolchain@v0.0.1-go1.26.8.linux-amd64
	Sum    string // its h1: hash, checked against the checksum database
	Zip    string // the module zip in the module cache
}

// ToolchainVersion is the module version of a Go release for p.
func ToolchainVersion(goVersion string, p v1.Platform) string {
	return "v0.0.1-" + goVersion + "." + p.OS + "-" + p.Architecture
}

var toolchains sync.Map // module@version -> *Toolchain

// GoToolchain downloads the Go toolchain for p with `go mod download`,
// which takes it from GOPROXY and checks it against GOSUMDB as it would any
// module: the same release gives the same bytes on every machine.
func GoToolchain(ctx context.Context, goVersion string, p v1.Platform, env []string) (*Toolchain, error) {
	if err := ValidToolchain(goVersion); err != nil {
		return nil, err
	}
	mod := ToolchainModule + "@" + ToolchainVersion(goVersion, p)
	if tc, ok := toolchains.Load(mod); ok {
		return tc.(*Toolchain), nil
	}
	// Outside any module, so the service's go.mod, vendor directory or
	// go.work play no part.
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	cmd.Dir = os.TempDir()
	cmd.Env = append(goEnv(env), "GOFLAGS=", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Zip, Sum, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return nil, fmt.Errorf("go toolchain %s: %s", mod, info.Error)
	}
	if err != nil {
		return nil, fmt.Errorf("go mod download %s: %w: %s", mod, err, strings.TrimSpace(stderr.String()))
	}
	if info.Zip == "" || info.Sum == "" {
		return nil, fmt.Errorf("go mod download %s: no zip or checksum in %q", mod, out)
	}
	tc := &Toolchain{Module: mod, Sum: info.Sum, Zip: info.Zip}
	toolchains.Store(mod, tc)
	return tc, nil
}

// Layer lays the toolchain under ToolchainDir. The zip carries no modes:
// as the go command does when it runs a downloaded toolchain, the programs
// in bin/ and pkg/tool/ are made executable.
func (t *Toolchain) Layer(mtime time.Time) (v1.Layer, error) {
	zr, err := zip.OpenReader(t.Zip)
	if err != nil {
		return nil, fmt.Errorf("go toolchain %s: %w", t.Module, err)
	}
	defer zr.Close()
	entries, err := toolchainEntries(&zr.Reader, t.Module)
	if err != nil {
		return nil, fmt.Errorf("go toolchain %s: %w", t.Module, err)
	}
	return newLayer(entries, mtime)
}

// toolchainEntries maps a toolchain module zip to layer entries; every
// file is read when the layer is written.
func toolchainEntries(zr *zip.Reader, mod string) ([]entry, error) {
	prefix := mod + "/"
	var entries []entry
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rel, ok := strings.CutPrefix(f.Name, prefix)
		clean := path.Clean(rel)
		if !ok || rel == "" || clean != rel || path.IsAbs(rel) || clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("unexpected entry %q", f.Name)
		}
		mode := int64(0o644)
		if strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "pkg/tool/") {
			mode = 0o755
		}
		entries = append(entries, entry{
			name: strings.TrimPrefix(ToolchainDir, "/") + "/" + rel,
			mode: mode,
			size: int64(f.UncompressedSize64),
			open: func() (io.ReadCloser, error) { return f.Open() },
		})
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("no files")
	}
	return entries, nil
}

// toolchainEnv puts the toolchain first on PATH and keeps it from
// switching to another (GOTOOLCHAIN=local: the image holds the one it
// has). The image has no git, so go must not try to stamp version control
// information (GOFLAGS=-buildvcs=false); a Go needs a home for its caches.
func toolchainEnv(env []string) []string {
	out := make([]string, 0, len(env)+3)
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			e = "PATH=" + ToolchainDir + "/bin:" + v
		}
		out = append(out, e)
	}
	return withDefaultEnv(out, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false", "HOME=/home/nonroot")
}
