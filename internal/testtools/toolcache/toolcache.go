// Package toolcache builds the reference command-line tools the tests check
// paved's output with (the cosign CLI) with go install, once per version,
// into a cache directory shared by test processes and CI runs. It links
// nothing heavy, so CI can build the tools before compiling the tests.
package toolcache

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DirEnv names a directory that overrides the cache directory for tool
// binaries, so CI can keep them with its other caches.
const DirEnv = "PAVED_TEST_TOOLS"

// The cosign CLI releases the tests check paved's output with: v3 is the
// release go.mod links (a test keeps them in step), v2 the last release
// whose users paved keeps able to verify.
const (
	CosignV3 = "v3.1.3"
	CosignV2 = "v2.6.2"
)

// Tool is a reference command-line tool, built with go install.
type Tool struct{ Pkg, Version string }

// Tools lists every reference tool the tests use, so CI builds them all
// before the tests run (.ci/run).
var Tools = []Tool{Cosign(CosignV3), Cosign(CosignV2)}

// Cosign is the cosign CLI at version ("v3.1.3").
func Cosign(version string) Tool {
	major := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0]
	pkg := "github.com/sigstore/cosign/cmd/cosign"
	if major != "1" && major != "0" {
		pkg = "github.com/sigstore/cosign/v" + major + "/cmd/cosign"
	}
	return Tool{pkg, version}
}

// Cached returns the path of the tool's binary and whether it was built
// before.
func (tool Tool) Cached() (string, bool) {
	base, err := baseDir()
	if err != nil {
		return "", false
	}
	bin := filepath.Base(tool.Pkg)
	path := filepath.Join(base, bin+"-"+tool.Version, bin)
	return path, executable(path)
}

// Install builds the tool into the cache unless it is there, and returns
// the binary's path. Concurrent callers, in this process or others, build
// it once. A build cut short by ctx resumes from Go's build cache.
func (tool Tool) Install(ctx context.Context) (string, error) {
	pkg, version := tool.Pkg, tool.Version
	bin := filepath.Base(pkg)
	base, err := baseDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for %s@%s: %w", pkg, version, err)
	}
	dir := filepath.Join(base, bin+"-"+version)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache directory for %s@%s: %w", pkg, version, err)
	}
	path := filepath.Join(dir, bin)
	if executable(path) {
		return path, nil
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return "", fmt.Errorf("locking the cache for %s@%s: %w", pkg, version, err)
	}
	defer unlock()
	if executable(path) { // another process built it meanwhile
		return path, nil
	}

	tmp, err := os.MkdirTemp(base, bin+"-build-")
	if err != nil {
		return "", fmt.Errorf("building %s@%s: %w", pkg, version, err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", pkg+"@"+version)
	cmd.Env = env(tmp)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		return "", fmt.Errorf("building %s@%s stopped after %s (%w); run again, Go's build cache keeps the progress", pkg, version, time.Since(start).Round(time.Second), ctx.Err())
	}
	if err != nil {
		return "", fmt.Errorf("cannot build %s@%s (offline, or the module proxy lacks a dependency): %w\n%s", pkg, version, err, tail(out, 2000))
	}
	if err := os.Rename(filepath.Join(tmp, bin), path); err != nil {
		return "", fmt.Errorf("building %s@%s: %w", pkg, version, err)
	}
	return path, nil
}

func baseDir() (string, error) {
	if base := os.Getenv(DirEnv); base != "" {
		return base, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(c, "paved-test-tools"), nil
}

// env installs into gobin and builds the tool as its authors do: no
// experiments from the enclosing test run, module mode outside any module.
func env(gobin string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOBIN", "GOEXPERIMENT", "GOFLAGS", "GOOS", "GOARCH", "CGO_ENABLED":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOBIN="+gobin, "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0")
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
