package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/loopback"
	"github.com/pavedhq/paved/internal/testtools/testfs"
)

var pavedBin, vulndbBin, demoDB string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "paved-e2e-")
	if err != nil {
		panic(err)
	}
	// Events spool in the state directory: the tests' own, not the machine's.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	// paved finds paved-worker beside itself.
	pavedBin, vulndbBin = filepath.Join(dir, "paved"), filepath.Join(dir, "vulndb")
	cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/paved", "../cmd/paved-worker", "../examples/vulndb")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building paved:", err)
		os.Exit(1)
	}
	// Every golden-path run scans; the tests run it air-gapped on the demo
	// database unless they pass their own.
	demoDB = filepath.Join(dir, "vulndb-data")
	if out, err := exec.Command(vulndbBin, "-o", demoDB).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "writing the demo vulnerability database: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// registry starts Debian's docker-registry on a free loopback port for the
// test and returns its host:port. Where the server is not installed the
// test is skipped, except in CI, which must run it.
func registry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		ci.Unavailable(t, "docker-registry is not installed (apt-get install docker-registry; .ci/run installs it)")
	}
	return loopback.DockerRegistry(t, bin)
}

// result is one run of the paved binary.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	return lines[len(lines)-1]
}

func paved(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return pavedWithin(t, 10*time.Minute, env, args...)
}

// pavedWithin is paved with a time limit of its own, for builds that
// compile paved itself.
func pavedWithin(t *testing.T, limit time.Duration, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if len(args) > 0 && args[0] == "run" && !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--vuln-db") }) {
		args = append(args, "--vuln-db", demoDB)
	}
	cmd := exec.CommandContext(ctx, pavedBin, args...)
	// GOEXPERIMENT is for building paved (Trivy needs jsonv2), not the
	// services paved builds.
	// Nor the CI host's variables: a run under test must not write the real
	// job's outputs or annotate its checks; a test that wants a host
	// passes its own (simulateActions).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOEXPERIMENT=") && !strings.HasPrefix(kv, "GITHUB_") && !strings.HasPrefix(kv, "ACTIONS_") && !strings.HasPrefix(kv, "RUNNER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("running paved %v: %v", args, err)
	}
	return r
}

// copyExample copies examples/go-service (without run outputs) to a fresh
// directory the test may change.
func copyExample(t *testing.T) string {
	t.Helper()
	return testfs.CopyTree(t, "../examples/go-service", filepath.Join(t.TempDir(), "go-service"))
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireLinuxAMD64 skips, even in CI, on a host that cannot run a
// linux/amd64 binary: no setting can make that possible.
func requireLinuxAMD64(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("runs the image's linux/amd64 binary on this host")
	}
}
