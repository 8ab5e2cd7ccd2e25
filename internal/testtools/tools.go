package testtools

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// DirEnv names a directory that overrides the cache directory for tool
// binaries, so CI can keep them with its other caches.
const DirEnv = "PAVED_TEST_TOOLS"

// Cosign returns the path of the cosign CLI at version ("v3.1.3",
// "v2.6.2"), built with go install on first use and cached. It skips t when
// the binary cannot be built, with the reason.
func Cosign(t testing.TB, version string) string {
	t.Helper()
	major := strings.SplitN(strings.TrimPrefix(version, "v"), ".", 2)[0]
	pkg := "github.com/sigstore/cosign/cmd/cosign"
	if major != "1" && major != "0" {
		pkg = "github.com/sigstore/cosign/v" + major + "/cmd/cosign"
	}
	return GoInstall(t, pkg, version)
}

// GoInstall returns the path of the binary `go install pkg@version`
// builds, cached under the user cache directory (or $PAVED_TEST_TOOLS) by
// name and version. Concurrent test processes build it once. The first
// build of a large tool can take minutes; a build cut short by the test's
// deadline skips t and resumes from Go's build cache on the next run.
func GoInstall(t testing.TB, pkg, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: not building %s@%s", pkg, version)
	}
	bin := filepath.Base(pkg)
	dir, err := toolDir(bin + "-" + version)
	if err != nil {
		t.Skipf("no cache directory for %s@%s: %v", pkg, version, err)
	}
	path := filepath.Join(dir, bin)
	if ok, _ := executable(path); ok {
		return path
	}
	unlock, err := lock(dir + ".lock")
	if err != nil {
		t.Skipf("locking the cache for %s@%s: %v", pkg, version, err)
	}
	defer unlock()
	if ok, _ := executable(path); ok { // another process built it meanwhile
		return path
	}

	ctx := context.Background()
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
			defer cancel()
		}
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), bin+"-build-")
	if err != nil {
		t.Skipf("building %s@%s: %v", pkg, version, err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", pkg+"@"+version)
	cmd.Env = toolEnv(tmp)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Skipf("building %s@%s did not finish before the test deadline (%s); run again, Go's build cache keeps the progress", pkg, version, time.Since(start).Round(time.Second))
	}
	if err != nil {
		t.Skipf("cannot build %s@%s (offline, or the module proxy lacks a dependency): %v\n%s", pkg, version, err, tail(out, 2000))
	}
	if err := os.Rename(filepath.Join(tmp, bin), path); err != nil {
		t.Skipf("building %s@%s: %v", pkg, version, err)
	}
	t.Logf("built %s@%s in %s", pkg, version, time.Since(start).Round(time.Second))
	return path
}

func toolDir(name string) (string, error) {
	base := os.Getenv(DirEnv)
	if base == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(c, "paved-test-tools")
	}
	dir := filepath.Join(base, name)
	return dir, os.MkdirAll(dir, 0o755)
}

// toolEnv installs into gobin and builds the tool as its authors do: no
// experiments from the enclosing test run, module mode outside any module.
func toolEnv(gobin string) []string {
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

func executable(path string) (bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return fi.Mode().IsRegular() && fi.Mode()&0o111 != 0, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Run runs a tool with args and extra environment, returning its combined
// output and error; a failure to start at all fails t.
func Run(t testing.TB, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running %s: %v", filepath.Base(name), err)
	}
	return string(out), err
}

// CosignEnv is the environment to run the cosign CLI in a test: a private
// home (cosign caches TUF metadata there) and an empty Docker config.
func CosignEnv(t testing.TB) []string {
	t.Helper()
	home := t.TempDir()
	return []string{"HOME=" + home, "DOCKER_CONFIG=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "COSIGN_EXPERIMENTAL=", "SIGSTORE_NO_CACHE=true"}
}
