package testtools

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/toolcache"
)

// DirEnv names a directory that overrides the cache directory for tool
// binaries, so CI can keep them with its other caches.
const DirEnv = toolcache.DirEnv

// The cosign CLI releases the tests verify paved's output with.
const (
	CosignV3 = toolcache.CosignV3
	CosignV2 = toolcache.CosignV2
)

// Cosign returns the path of the cosign CLI at version (CosignV3,
// CosignV2), built with go install on first use and cached. When it cannot
// be had, t skips with the reason, or fails in CI.
func Cosign(t testing.TB, version string) string {
	t.Helper()
	tool := toolcache.Cosign(version)
	return GoInstall(t, tool.Pkg, tool.Version)
}

// GoInstall returns the path of the binary `go install pkg@version`
// builds, cached under the user cache directory (or $PAVED_TEST_TOOLS) by
// name and version. Concurrent test processes build it once. The first
// build of a large tool can take minutes (.ci/run builds them before the
// tests); a build cut short by the test's deadline resumes from Go's build
// cache on the next run. Whatever keeps the tool from t (a failed build,
// the deadline, -short) skips t locally and fails it in CI.
func GoInstall(t testing.TB, pkg, version string) string {
	t.Helper()
	tool := toolcache.Tool{Pkg: pkg, Version: version}
	if path, ok := tool.Cached(); ok {
		return path
	}
	if testing.Short() {
		ci.Unavailable(t, "-short: not building %s@%s", pkg, version)
	}
	ctx := context.Background()
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
			defer cancel()
		}
	}
	start := time.Now()
	path, err := tool.Install(ctx)
	if err != nil {
		ci.Unavailable(t, "%v", err)
	}
	t.Logf("built %s@%s in %s", pkg, version, time.Since(start).Round(time.Second))
	return path
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
