package tests

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/internal/testtools"
)

// TestPavedImage builds paved's own image as the README says — paved build
// with the repository's paved.yaml, then paved sign and paved attest —
// into a real registry, twice for the same digest, checks the signature
// and provenance with the cosign CLI, and runs paved and the image's Go
// toolchain from the linux/amd64 image's extracted layers. The binaries
// are static (CGO_ENABLED=0), so they run from the extracted root without
// a chroot; paved-worker is found beside paved there as in the image.
func TestPavedImage(t *testing.T) {
	reg := registry(t)
	cosign := testtools.Cosign(t, testtools.CosignV3)
	src, commit := repositoryCopy(t)
	key, pub := keyPair(t, cosign, keyPassword)
	repo := reg + "/paved/paved"
	// paved-worker links Trivy, which needs encoding/json/v2 to compile.
	env := []string{"GOEXPERIMENT=jsonv2", "COSIGN_PASSWORD=" + keyPassword}
	cache := t.TempDir()
	// paved.yaml builds linux/amd64 and linux/arm64. Cross-compiling
	// paved-worker for arm64 is a cold compile of Syft, Trivy and cosign
	// (over ten minutes on two cores), which CI cannot afford on every run;
	// the test builds the host's platform unless told otherwise, and the
	// example service's tests cover multi-arch assembly.
	platforms := os.Getenv("PAVED_TEST_IMAGE_PLATFORMS")
	if platforms == "" {
		platforms = "linux/amd64"
	}

	built := pavedWithin(t, 60*time.Minute, env, "build", "--source", src, "--image", repo, "--cache-dir", cache, "--platform", platforms)
	if built.code != 0 {
		t.Fatalf("paved build exited %d\n%s", built.code, built.stderr)
	}
	ref := built.lastLine()
	t.Logf("built %s in %v", ref, built.took.Round(time.Second))

	t.Run("same digest again", func(t *testing.T) {
		again := pavedWithin(t, 60*time.Minute, env, "build", "--source", src, "--image", repo, "--no-cache", "--platform", platforms)
		if again.code != 0 || again.lastLine() != ref {
			t.Fatalf("second build (no step cache): exit %d, ref %q, want %q\n%s", again.code, again.lastLine(), ref, again.stderr)
		}
		t.Logf("rebuilt with no step cache (Go's build cache warm) in %v", again.took.Round(time.Second))
	})

	t.Run("signed and attested by paved, verified by cosign", func(t *testing.T) {
		for _, args := range [][]string{{"sign", ref, "--key", key}, {"attest", ref, "--source", src, "--key", key}} {
			r := pavedWithin(t, 20*time.Minute, env, append(args, "--cache-dir", cache)...)
			if r.code != 0 {
				t.Fatalf("paved %s exited %d\n%s", args[0], r.code, r.stderr)
			}
			t.Logf("paved %s took %v", args[0], r.took.Round(time.Second))
		}
		insecure := []string{"--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry"}
		if out, err := cosignRun(t, cosign, append(append([]string{"verify"}, insecure...), ref)...); err != nil {
			t.Fatalf("cosign verify: %v\n%s", err, out)
		}
		for _, typ := range []string{"slsaprovenance1", "spdxjson"} {
			out, err := cosignRun(t, cosign, append(append([]string{"verify-attestation", "--type", typ}, insecure...), ref)...)
			if err != nil {
				t.Fatalf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
			}
			if typ == "slsaprovenance1" && !strings.Contains(decodedPayloads(t, out), commit) {
				t.Errorf("the provenance does not name the commit %s", commit)
			}
		}
	})

	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var amd64 v1.Image
	for _, d := range im.Manifests {
		got = append(got, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		logSize(t, d.Platform.String(), img)
		if d.Platform.String() == "linux/amd64" {
			amd64 = img
		}
	}
	if strings.Join(got, ",") != platforms {
		t.Fatalf("platforms %v, want %s", got, platforms)
	}
	cf, err := amd64.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/app/paved" {
		t.Errorf("entrypoint %q, want /app/paved", got)
	}

	t.Run("paved version runs in the extracted image", func(t *testing.T) {
		requireLinuxAMD64(t)
		root := extract(t, amd64)
		out, err := exec.Command(filepath.Join(root, "app", "paved"), "version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != commit[:12] {
			t.Fatalf("paved version: %q, %v; want %s", out, err, commit[:12])
		}
		if info, err := os.Stat(filepath.Join(root, "app", "paved-worker")); err != nil || info.Mode()&0o111 == 0 {
			t.Errorf("paved-worker: %v, %v", info, err)
		}
		goOut, err := exec.Command(filepath.Join(root, "usr", "local", "go", "bin", "go"), "version").CombinedOutput()
		if err != nil || !strings.Contains(string(goOut), "go1.26.8 linux/amd64") {
			t.Errorf("the image's go version: %q, %v", goOut, err)
		}
		for _, kv := range []string{"PATH=/usr/local/go/bin:", "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local"} {
			if !strings.Contains(strings.Join(cf.Config.Env, "\n"), kv) {
				t.Errorf("image environment %v lacks %s", cf.Config.Env, kv)
			}
		}
	})
}

// repositoryCopy copies the files git knows in this checkout (tracked, and
// new ones not ignored: the code under test) into a fresh repository with
// one commit, so the build sees a clean tree with a commit to stamp.
func repositoryCopy(t *testing.T) (dir, commit string) {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dir = filepath.Join(t.TempDir(), "paved")
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join("..", rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, gitInit(t, dir)
}

// extract writes the image's filesystem (its layers applied in order) under
// a new directory.
func extract(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			t.Fatalf("layer entry %q leaves the root", h.Name)
		}
		p := filepath.Join(root, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777|0o200)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.Copy(f, tr)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// logSize records what the README states: compressed (pulled) and
// uncompressed size by layer.
func logSize(t *testing.T, platform string, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var total, totalRaw int64
	var parts []string
	comments := []string{}
	for _, h := range cf.History {
		if !h.EmptyLayer {
			comments = append(comments, h.Comment)
		}
	}
	for i, l := range layers {
		size, err := l.Size()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		total, totalRaw = total+size, totalRaw+raw
		what := ""
		if i < len(comments) {
			what = comments[i]
		}
		parts = append(parts, fmt.Sprintf("%s: %.1f MB (%.1f MB unpacked)", what, float64(size)/1e6, float64(raw)/1e6))
	}
	t.Logf("%s: %.1f MB compressed, %.1f MB unpacked; %s", platform, float64(total)/1e6, float64(totalRaw)/1e6, strings.Join(parts, "; "))
}

// decodedPayloads decodes the base64 DSSE payloads cosign prints.
func decodedPayloads(t *testing.T, out string) string {
	t.Helper()
	var b bytes.Buffer
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, `"payload":"`); i >= 0 {
			rest := line[i+len(`"payload":"`):]
			if j := strings.Index(rest, `"`); j >= 0 {
				dec, err := base64.StdEncoding.DecodeString(rest[:j])
				if err == nil {
					b.Write(dec)
				}
			}
		}
	}
	return b.String()
}
