package daggertest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/testfs"
)

// Switch turns the harness on outside CI: it builds a Dagger engine
// (minutes, once per version) and runs it as root, so a developer's plain
// `go test ./...` skips it unless asked. In CI it always runs.
const Switch = "PAVED_DAGGER_E2E"

// DaggerVersion is the engine and CLI the harness builds and runs.
const DaggerVersion = "v0.19.7"

// The run context both front doors get, so the same source and settings
// give the same image: no git in paved's image, so the commit comes from
// PAVED_COMMIT there, and here from the same (the source copies have no
// .git); image timestamps then come from the Unix epoch in both.
const (
	commit = "0123456789abcdef0123456789abcdef01234567"
	repo   = "https://github.com/pavedhq/paved"
)

// TestDagger runs paved's Dagger module with the real Dagger CLI against a
// real engine: functions listed with their help, the go-service golden path
// published to a local registry with the digest `paved run` gives, a red
// test failing the call, build and scan, and a module that installs paved
// and puts a step of its own between paved's. It stops everything it
// started by PID and checks nothing is left.
func TestDagger(t *testing.T) {
	if os.Getenv(Switch) == "" && !ci.Enabled() {
		t.Skipf("the Dagger harness runs in CI, or with %s=1: it builds and runs a Dagger engine (as root, on Linux)", Switch)
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		ci.Unavailable(t, "the Dagger harness runs a Dagger engine in namespaces of its own: it needs root on Linux")
	}
	for _, tool := range []string{"unshare", "runc", "iptables", "dnsmasq", "busybox", "docker-registry"} {
		if _, err := exec.LookPath(tool); err != nil {
			ci.Unavailable(t, "%s is not installed (.ci/run installs runc, dnsmasq-base, iptables, containernetworking-plugins, busybox-static and docker-registry)", tool)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	start := time.Now()

	// The engine and CLI, and the Go SDK's image, cached by version.
	out, err := exec.Command(filepath.Join(root, "tests/dagger/build-engine.sh"), DaggerVersion).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("building Dagger %s: %v\n%s", DaggerVersion, err, tail(ee.Stderr))
		}
		t.Fatalf("building Dagger %s: %v", DaggerVersion, err)
	}
	tools := strings.TrimSpace(string(out))
	content, digest := sdkContent(t, tools, DaggerVersion)
	t.Logf("Dagger %s and the Go SDK's image (%s) ready after %s", DaggerVersion, digest, time.Since(start).Round(time.Second))

	// paved, the demo vulnerability database, and paved's image.
	pavedBin := buildPaved(t, root, tmp)
	demoDB := filepath.Join(tmp, "vulndb-data")
	run(t, nil, "", filepath.Join(tmp, "vulndb"), "-o", demoDB)
	archive := pavedImage(t, root, pavedBin, tools, tmp)
	t.Logf("paved's image archive ready after %s", time.Since(start).Round(time.Second))

	// The modules the engine's Go builds need, in the cache its GOPROXY serves.
	run(t, nil, filepath.Join(root, "examples/go-service"), "go", "mod", "download")
	downloadGraph(t, filepath.Join(root, "dagger"))
	downloadGraph(t, filepath.Join(root, "examples/dagger-release"))

	reg := registry(t)
	_, port, _ := strings.Cut(reg, ":")
	local := "localhost:" + port
	eng := startEngine(t, tools, content, digest)
	defer func() {
		eng.stop(t)
		if left := eng.leftovers(); len(left) > 0 {
			t.Errorf("the engine left behind:\n%s", strings.Join(left, "\n"))
		}
	}()
	t.Logf("engine up after %s", time.Since(start).Round(time.Second))

	// Every call runs paved from the archive, with the engine's module proxy.
	paved := []string{"call", "--image-archive=" + archive, "--goproxy=" + eng.proxy}
	registryFlag := "--registry=tcp://" + local

	t.Run("functions", func(t *testing.T) {
		r, err := eng.dagger(t, root, "functions")
		if err != nil {
			t.Fatalf("%v\n%s\n%s", err, r.stdout, tail([]byte(r.stderr)))
		}
		for _, want := range []string{
			"test    Test runs the service's tests",
			"build   Build builds the service's reproducible",
			"sbom    Sbom writes the SPDX 2.3 and CycloneDX SBOMs",
			"scan    Scan scans a published image",
			"sign    Sign signs a published image",
			"attest  Attest attaches signed SLSA provenance",
			"verify  Verify checks a published image's signature",
			"promote Promote checks an image against a promotion policy",
			"go-service GoService is the go-service golden path",
		} {
			fn, desc, _ := strings.Cut(want, " ")
			if !hasFunction(r.stdout, fn, strings.TrimSpace(desc)) {
				t.Errorf("dagger functions does not list %s with %q:\n%s", fn, strings.TrimSpace(desc), r.stdout)
			}
		}
	})

	t.Run("golden path: same digest as paved run", func(t *testing.T) {
		src := testfs.CopyTree(t, filepath.Join(root, "examples/go-service"), filepath.Join(t.TempDir(), "go-service"))
		host := pavedRun(t, pavedBin, "run", "go-service", "--source", src, "--image", reg+"/host/go-service",
			"--vuln-db", demoDB, "--cache-dir", filepath.Join(t.TempDir(), "cache"))
		want, err := name.NewDigest(host)
		if err != nil {
			t.Fatalf("paved run printed %q: %v", host, err)
		}
		r, err := eng.dagger(t, root, append(paved, "go-service", "--source="+src, "--vuln-db="+demoDB,
			"--commit="+commit, "--repo="+repo,
			"publish", "--address="+local+"/demo/go-service", registryFlag)...)
		if err != nil {
			t.Fatalf("%v\n%s\n%s", err, r.stdout, tail([]byte(r.stderr)))
		}
		got, err := name.NewDigest(r.lastLine())
		if err != nil {
			t.Fatalf("dagger call printed %q: %v\n%s", r.lastLine(), err, tail([]byte(r.stderr)))
		}
		if got.Context().String() != local+"/demo/go-service" {
			t.Errorf("published to %s, want %s/demo/go-service", got.Context(), local)
		}
		if got.DigestStr() != want.DigestStr() {
			t.Errorf("dagger call published %s, paved run %s: the same source and settings must give the same digest", got.DigestStr(), want.DigestStr())
		}
		// crane's library reads it as a two-platform index.
		idx, err := remote.Index(got)
		if err != nil {
			t.Fatalf("reading %s: %v", got, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		var platforms []string
		for _, m := range im.Manifests {
			if m.Platform != nil {
				platforms = append(platforms, m.Platform.String())
			}
		}
		slices.Sort(platforms)
		if !slices.Equal(platforms, []string{"linux/amd64", "linux/arm64"}) {
			t.Errorf("index platforms %v, want linux/amd64 and linux/arm64", platforms)
		}
	})

	t.Run("a red test fails the call naming it", func(t *testing.T) {
		src := testfs.CopyTree(t, filepath.Join(root, "examples/go-service"), filepath.Join(t.TempDir(), "go-service"))
		red := "package main\n\nimport \"testing\"\n\nfunc TestDaggerHarnessRed(t *testing.T) { t.Fatal(\"red on purpose\") }\n"
		if err := os.WriteFile(filepath.Join(src, "red_test.go"), []byte(red), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := eng.dagger(t, root, append(paved, "test", "--source="+src, "failed")...)
		if err == nil {
			t.Fatalf("dagger call test passed on a red test:\n%s", r.stdout)
		}
		if !strings.Contains(r.stdout+r.stderr, "TestDaggerHarnessRed") {
			t.Errorf("exit %d without naming the failed test:\n%s\n%s", r.code, r.stdout, tail([]byte(r.stderr)))
		}
	})

	t.Run("test, build and scan", func(t *testing.T) {
		src := testfs.CopyTree(t, filepath.Join(root, "examples/go-service"), filepath.Join(t.TempDir(), "go-service"))
		r, err := eng.dagger(t, root, append(paved, "test", "--source="+src, "passed")...)
		if err != nil || strings.TrimSpace(r.lastLine()) == "0" {
			t.Fatalf("test: %v, passed %q\n%s", err, r.lastLine(), tail([]byte(r.stderr)))
		}
		r, err = eng.dagger(t, root, append(paved, "build", "--source="+src, "--platforms=linux/amd64",
			"publish", "--address="+local+"/demo/built", registryFlag)...)
		if err != nil {
			t.Fatalf("build: %v\n%s", err, tail([]byte(r.stderr)))
		}
		ref, err := name.NewDigest(r.lastLine())
		if err != nil {
			t.Fatalf("build publish printed %q: %v", r.lastLine(), err)
		}
		if _, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err != nil {
			t.Fatalf("reading the built image %s: %v", ref, err)
		}
		r, err = eng.dagger(t, root, append(paved, "scan", "--ref="+ref.String(), "--source="+src, "--vuln-db="+demoDB,
			registryFlag, "status")...)
		if err != nil || r.lastLine() != "scanned" {
			t.Fatalf("scan: %v, status %q\n%s\n%s", err, r.lastLine(), r.stdout, tail([]byte(r.stderr)))
		}
	})

	t.Run("a module that installs paved adds its own step", func(t *testing.T) {
		ex := filepath.Join(root, "examples/dagger-release")
		args := []string{"call", "release", "--image-archive=" + archive, "--goproxy=" + eng.proxy,
			"--vuln-db=" + demoDB, "--commit=" + commit, "--repo=" + repo, registryFlag}

		src := testfs.CopyTree(t, filepath.Join(root, "examples/go-service"), filepath.Join(t.TempDir(), "go-service"))
		r, err := eng.dagger(t, ex, append(args, "--source="+src, "--address="+local+"/demo/released")...)
		if err != nil {
			t.Fatalf("%v\n%s\n%s", err, r.stdout, tail([]byte(r.stderr)))
		}
		steps := stepLines(r.stdout)
		if len(steps) != 3 || !strings.HasPrefix(steps[0], "paved test:") || !strings.HasPrefix(steps[1], "release gate:") || !strings.HasPrefix(steps[2], "paved go-service publish: "+local+"/demo/released@sha256:") {
			t.Fatalf("want paved's test, the gate, then paved's publish; got:\n%s", r.stdout)
		}

		// The gate refuses a service with a skipped test: it runs after
		// paved's tests and before anything is published.
		gated := testfs.CopyTree(t, filepath.Join(root, "examples/go-service"), filepath.Join(t.TempDir(), "go-service"))
		skip := "package main\n\nimport \"testing\"\n\nfunc TestDaggerHarnessSkipped(t *testing.T) { t.Skip(\"later\") }\n"
		if err := os.WriteFile(filepath.Join(gated, "skip_test.go"), []byte(skip), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err = eng.dagger(t, ex, append(args, "--source="+gated, "--address="+local+"/demo/gated")...)
		if err == nil || !strings.Contains(r.stdout+r.stderr, "release gate: 1 skipped test") {
			t.Fatalf("the gate let a skipped test through (%v):\n%s\n%s", err, r.stdout, tail([]byte(r.stderr)))
		}
		if _, err := remote.Head(must(name.NewTag(local + "/demo/gated:latest"))); err == nil {
			t.Errorf("the gate refused, yet %s/demo/gated was published", local)
		}
	})
	t.Logf("harness ran in %s", time.Since(start).Round(time.Second))
}

// hasFunction reports whether `dagger functions` output lists fn with a
// description starting with desc.
func hasFunction(out, fn, desc string) bool {
	for _, l := range strings.Split(out, "\n") {
		f, rest, ok := strings.Cut(strings.TrimSpace(l), " ")
		if ok && f == fn && strings.HasPrefix(strings.TrimSpace(rest), desc) {
			return true
		}
	}
	return false
}

// stepLines are the example module's report lines, one per step.
func stepLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "paved ") || strings.HasPrefix(l, "release gate:") {
			lines = append(lines, l)
		}
	}
	return lines
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// buildPaved builds paved, paved-worker and the demo database writer.
func buildPaved(t *testing.T, root, dir string) string {
	t.Helper()
	run(t, nil, root, "go", "build", "-o", dir+"/", "./cmd/paved", "./cmd/paved-worker", "./examples/vulndb")
	return filepath.Join(dir, "paved")
}

// pavedRun runs paved on the host with the settings the Dagger calls get,
// and returns the reference it printed last.
func pavedRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GOEXPERIMENT", k == "GOFLAGS", strings.HasPrefix(k, "GITHUB_"), strings.HasPrefix(k, "ACTIONS_"), strings.HasPrefix(k, "RUNNER_"):
			continue // the CI job's, not the service's settings
		}
		cmd.Env = append(cmd.Env, kv)
	}
	// paved's image runs go with GOFLAGS=-buildvcs=false (it has no git).
	cmd.Env = append(cmd.Env, "PAVED_COMMIT="+commit, "PAVED_REPO="+repo, "GOFLAGS=-buildvcs=false")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("paved %s: %v\n%s", strings.Join(args, " "), err, tail(errb.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1]
}

// pavedImage builds paved's own image for the host's platform with paved
// (README, "paved's image") into an OCI layout, and packs it into the
// archive the module's --image-archive takes. paved's step cache for it is
// kept beside the Dagger binaries, so an unchanged source is not rebuilt.
func pavedImage(t *testing.T, root, pavedBin, tools, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "paved-src")
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layoutDir := filepath.Join(dir, "paved-image")
	cmd := exec.Command(pavedBin, "build", "--source", src, "--image", "oci:"+layoutDir, "--platform", "linux/amd64",
		"--cache-dir", filepath.Join(tools, "paved-steps"), "--cache-max-size", "3GB")
	cmd.Env = append(os.Environ(), "GOEXPERIMENT=jsonv2", "PAVED_COMMIT="+commit)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("paved build (paved's image): %v\n%s", err, tail(errb.Bytes()))
	}
	archive := filepath.Join(dir, "paved-image.tar")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(layoutDir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return archive
}
