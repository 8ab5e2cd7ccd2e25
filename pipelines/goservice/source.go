package goservice

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pavedhq/paved/internal/version"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// moduleRoot is the directory of the go.mod that holds dir: everything under
// it can change what the service compiles to.
func moduleRoot(dir string) (string, error) {
	d := dir
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s is not inside a Go module (no go.mod found)", dir)
		}
		d = parent
	}
}

// skipSource leaves out what never changes a Go build or test: version
// control, paved's own outputs, editor and dependency folders.
func skipSource(rel string, d fs.DirEntry) bool {
	base := filepath.Base(rel)
	if d.IsDir() {
		return base == ".git" || base == pipelines.OutputDir || base == "node_modules" || base == ".idea" || base == ".vscode"
	}
	return false
}

// toolchain describes the Go toolchain, which every Go step's key includes.
type toolchain struct {
	Version string
	Env     []string // variables that change what go build and go test do
}

var (
	toolchainOnce sync.Once
	toolchainInfo toolchain
	toolchainErr  error
)

func goToolchain(ctx context.Context) (toolchain, error) {
	toolchainOnce.Do(func() {
		toolchainInfo.Version, toolchainErr = goVersion(ctx)
		// GOTOOLCHAIN and the module's go and toolchain lines (hashed with
		// the source) decide which toolchain go really runs.
		for _, k := range []string{"GOTOOLCHAIN", "GOFLAGS", "GOEXPERIMENT", "CGO_ENABLED", "GOAMD64", "GOARM64", "GOPROXY", "GONOSUMDB", "GOPRIVATE"} {
			// Credentials in GOPROXY never change what is built: keep
			// them out of keys and provenance.
			toolchainInfo.Env = append(toolchainInfo.Env, k+"="+runner.RedactURL(os.Getenv(k)))
		}
	})
	return toolchainInfo, toolchainErr
}

// goVersion reads the VERSION file of the go on PATH, which costs far less
// than running `go env` (tens of milliseconds); it asks go when there is
// no such file, as in some distribution packages.
func goVersion(ctx context.Context) (string, error) {
	bin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go toolchain is needed to build Go services: %w", err)
	}
	if real, err := filepath.EvalSymlinks(bin); err == nil {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(real)), "VERSION")); err == nil {
			if v, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(v, "go") {
				return strings.TrimSpace(v), nil
			}
		}
	}
	out, err := exec.CommandContext(ctx, bin, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("running %s env GOVERSION: %w", bin, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sourceKey starts a step key with the toolchain and the module's files.
func sourceKey(ctx context.Context, step, dir string) (*runner.KeyBuilder, error) {
	tc, err := goToolchain(ctx)
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot(dir)
	if err != nil {
		return nil, err
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, err
	}
	k := runner.NewKey().String("step", step).String("go", tc.Version)
	// Read now, not with the toolchain: a library caller may run twice in
	// one process with another environment.
	EnvKey(k, "env:", goEnvKeys)
	if err := goEnvFile(k); err != nil {
		return nil, err
	}
	rel, _ := filepath.Rel(root, dir)
	k.String("dir", filepath.ToSlash(rel))
	if err := k.Dir("module", root, skipSource); err != nil {
		return nil, fmt.Errorf("hashing source %s: %w", root, err)
	}
	if err := moduleInputs(k, dir, root); err != nil {
		return nil, err
	}
	return k, nil
}

// pavedVersion is the version of paved linked into this program, the
// builder version provenance names: a release, the commit of a checkout
// paved was built from, or the version a program that imports paved
// requires.
func pavedVersion() string {
	if v := version.Module(version.Paved); v != "" {
		return v
	}
	return "unknown"
}
