package tests

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pavedhq/paved/internal/testtools/loopback"
	"github.com/pavedhq/paved/runner"
)

func readReport(t *testing.T, path string) runner.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r runner.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report %s: %v", path, err)
	}
	return r
}

// TestGoServiceToRegistry is the golden path's acceptance: a real registry
// receives a multi-arch index whose amd64 binary runs and answers.
func TestGoServiceToRegistry(t *testing.T) {
	reg := registry(t)
	src := copyExample(t)
	repo := reg + "/demo/go-service"
	cacheA, cacheB := t.TempDir(), t.TempDir()
	reportA := filepath.Join(t.TempDir(), "a.json")

	cold := paved(t, nil, "run", "go-service", "--source", src, "--image", repo, "--cache-dir", cacheA, "--report", reportA)
	if cold.code != 0 {
		t.Fatalf("paved run exited %d\n%s", cold.code, cold.stderr)
	}
	ref := cold.lastLine()
	if !strings.HasPrefix(ref, repo+"@sha256:") {
		t.Fatalf("last line %q, want %s@sha256:...", ref, repo)
	}

	t.Run("index", func(t *testing.T) { checkIndex(t, ref) })

	t.Run("same digest from another cache", func(t *testing.T) {
		other := paved(t, nil, "run", "go-service", "--source", src, "--image", repo, "--cache-dir", cacheB)
		if other.code != 0 || other.lastLine() != ref {
			t.Fatalf("second cold run: exit %d, ref %q, want %q\n%s", other.code, other.lastLine(), ref, other.stderr)
		}
	})

	t.Run("warm run is all cached", func(t *testing.T) {
		reportW := filepath.Join(t.TempDir(), "w.json")
		warm := paved(t, nil, "run", "go-service", "--source", src, "--image", repo, "--cache-dir", cacheA, "--report", reportW)
		if warm.code != 0 || warm.lastLine() != ref {
			t.Fatalf("warm run: exit %d, ref %q\n%s", warm.code, warm.lastLine(), warm.stderr)
		}
		rep := readReport(t, reportW)
		for _, s := range rep.Steps {
			if !s.Cached || s.Status != runner.Succeeded {
				t.Errorf("warm step %s: status %s cached %v", s.Name, s.Status, s.Cached)
			}
		}
		t.Logf("cold %v, warm %v (%.1f%%)", cold.took, warm.took, 100*warm.took.Seconds()/cold.took.Seconds())
	})

	t.Run("report", func(t *testing.T) {
		rep := readReport(t, reportA)
		if rep.APIVersion != runner.ReportAPIVersion || rep.Status != runner.Succeeded || rep.Image == nil ||
			rep.Image.Ref != ref || len(rep.Image.Platforms) != 2 || rep.Test == nil || rep.Test.Coverage < 80 {
			t.Fatalf("report: %+v image %+v test %+v", rep, rep.Image, rep.Test)
		}
		if _, err := os.Stat(rep.Test.JUnit); err != nil {
			t.Errorf("JUnit report: %v", err)
		}
	})

	t.Run("registry moved the tag only after the index", func(t *testing.T) {
		tagged, err := remote.Head(mustRef(t, repo+":latest"))
		if err != nil {
			t.Fatal(err)
		}
		if want := ref[strings.Index(ref, "@")+1:]; tagged.Digest.String() != want {
			t.Fatalf("latest = %s, want %s", tagged.Digest, want)
		}
	})
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkIndex(t *testing.T, ref string) {
	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", mt, types.OCIImageIndex)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var platforms []string
	var amd64 v1.Image
	for _, d := range im.Manifests {
		platforms = append(platforms, d.Platform.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if len(cf.Config.Entrypoint) == 0 || cf.Config.User == "" || strings.HasPrefix(cf.Config.User, "0") || cf.Config.User == "root" {
			t.Errorf("%s: entrypoint %v user %q, want an entrypoint and a nonroot user", d.Platform, cf.Config.Entrypoint, cf.Config.User)
		}
		if cf.Architecture != d.Platform.Architecture {
			t.Errorf("%s: config architecture %s", d.Platform, cf.Architecture)
		}
		if d.Platform.Architecture == "amd64" {
			amd64 = img
		}
	}
	if got := strings.Join(platforms, ","); got != "linux/amd64,linux/arm64" {
		t.Fatalf("platforms %s, want linux/amd64,linux/arm64", got)
	}
	if im.Annotations["org.opencontainers.image.created"] == "" {
		t.Errorf("index lacks org.opencontainers.image.created: %v", im.Annotations)
	}
	requireLinuxAMD64(t)
	runImageBinary(t, amd64)
}

// runImageBinary extracts the entrypoint from the image's layers, runs it
// on this host and asks its health endpoint.
func runImageBinary(t *testing.T, img v1.Image) {
	cf, _ := img.ConfigFile()
	entry := strings.TrimPrefix(cf.Config.Entrypoint[0], "/")
	bin := filepath.Join(t.TempDir(), "app")
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimPrefix(h.Name, "./") == entry {
				f, _ := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
				io.Copy(f, tr)
				f.Close()
				found = true
			}
		}
		rc.Close()
	}
	if !found {
		t.Fatalf("entrypoint %s not in the image's layers", entry)
	}
	addr := loopback.FreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-addr", addr)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://%s/healthz", addr))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
				t.Fatalf("/healthz: %d %s", resp.StatusCode, body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the image's binary did not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrokenTestFailsTheRun(t *testing.T) {
	src := copyExample(t)
	replaceInFile(t, filepath.Join(src, "internal/store/store_test.go"),
		`if n.ID == "" || n.Text != "hello"`, `if n.ID == "" || n.Text != "goodbye"`)
	r := paved(t, nil, "run", "go-service", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "TestCreateGetDelete") {
		t.Fatalf("stderr does not name the failed test:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "@sha256:") {
		t.Fatalf("an image was published although a test failed: %s", r.stdout)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Status != runner.Failed || rep.Test == nil || len(rep.Test.Failures) == 0 || rep.Test.Failures[0].Test != "TestCreateGetDelete" {
		t.Fatalf("report does not name the failure: %+v", rep.Test)
	}
}

func TestCoverageGate(t *testing.T) {
	src := copyExample(t)
	replaceInFile(t, filepath.Join(src, "paved.yaml"), "coverage: 80", "coverage: 99.5")
	r := paved(t, nil, "test", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "99.5%") || !strings.Contains(r.stderr, "coverage") {
		t.Fatalf("stderr does not give the coverage figures:\n%s", r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	src := copyExample(t)
	bad := copyExample(t)
	replaceInFile(t, filepath.Join(bad, "paved.yaml"), "test:\n", "tset: 1\ntest:\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"run", "go-service", "--source", src, "--imagee", "x"}, "--imagee"},
		{"unknown pipeline", []string{"run", "rust-service", "--source", src}, "rust-service"},
		{"bad platform", []string{"build", "--source", src, "--platform", "linux/sparc99"}, "--platform"},
		{"unknown paved.yaml field", []string{"run", "go-service", "--source", bad}, "tset"},
		{"missing source", []string{"test", "--source", filepath.Join(src, "nope")}, "--source"},
		{"image with a tag", []string{"build", "--source", src, "--image", "localhost:5000/a/b:v1"}, "--image"},
		{"unknown command", []string{"deploy"}, "deploy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := paved(t, nil, append(tc.args, "--cache-dir", t.TempDir())...)
			if tc.name == "unknown command" {
				r = paved(t, nil, tc.args...)
			}
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want 2 and a message naming %q:\n%s", r.code, tc.want, r.stderr)
			}
		})
	}
}

func TestUnreachableRegistry(t *testing.T) {
	src := copyExample(t)
	addr := loopback.FreeAddr(t) // nothing listens there any more
	start := time.Now()
	r := paved(t, nil, "build", "--source", src, "--image", addr+"/demo/svc", "--cache-dir", t.TempDir(), "--platform", "linux/amd64")
	if r.code != 1 || !strings.Contains(r.stderr, addr) {
		t.Fatalf("exit %d, want 1 and a message naming %s:\n%s", r.code, addr, r.stderr)
	}
	if took := time.Since(start); took > 2*time.Minute {
		t.Fatalf("gave up only after %v", took)
	}
}
