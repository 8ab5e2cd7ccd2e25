package tests

import (
	"bufio"
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

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/hostbase"
	"github.com/pavedhq/paved/internal/testtools/loopback"
)

// The ts-service tests install the example's dependencies with npm, which
// needs the npm registry (or npm's cache from an earlier install).

// copyTSExample copies examples/ts-service as a fresh clone has it.
func copyTSExample(t *testing.T) string {
	t.Helper()
	return copyNodeExample(t, "ts-service", "node and npm are not installed (apt-get install nodejs npm)")
}

// nodeBase is a Node base made of the host's node (internal/testtools/hostbase).
func nodeBase(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		ci.Unavailable(t, "node is not installed")
	}
	bin, _ = filepath.EvalSymlinks(bin)
	return hostbase.Layout(t, bin)
}

// With nothing but the source, the path runs offline (after npm's cache
// holds the packages) on the defaults, and a second run from a clean
// cache gives the same digest.
func TestTSServiceDefaults(t *testing.T) {
	src := copyTSExample(t)
	first, stderr := runToLayout(t, nil, "ts-service", src)
	if !strings.Contains(stderr, "pin a Node base image for production") {
		t.Errorf("no warning about the host's node:\n%s", stderr)
	}
	os.RemoveAll(filepath.Join(src, ".paved"))
	os.RemoveAll(filepath.Join(src, "dist"))
	again, _ := runToLayout(t, nil, "ts-service", src)
	if a, b := digestPart(first), digestPart(again); a != b {
		t.Fatalf("digests differ between runs: %s then %s", a, b)
	}
}

func digestPart(ref string) string {
	_, d, _ := strings.Cut(ref, "@")
	return d
}

// The whole path against a real registry with a key: the cosign CLI
// verifies the signature and the attestations, the SBOM lists the npm
// production dependencies, the image runs and answers its health
// endpoint, and a one-line change uploads only the application's layer.
func TestTSServiceToRegistry(t *testing.T) {
	sg := newSigner(t)
	src := copyTSExample(t)
	base := nodeBase(t)
	run, report, up := runToRegistry(t, sg, nil, "ts-service", src, base, "team/ts-service")
	ref := run().lastLine()
	firstUploads := up.take()

	sg.verify(t, ref)

	rep := readReport(t, report)
	t.Run("SBOM lists the npm production dependencies", func(t *testing.T) {
		var image string
		for _, s := range rep.SBOM {
			if s.Format == "spdx-json" && !strings.Contains(filepath.Base(s.Path), "source") {
				image = s.Path
			}
		}
		b, err := os.ReadFile(image)
		if err != nil {
			t.Fatalf("image SPDX SBOM %q: %v (report %+v)", image, err, rep.SBOM)
		}
		if !strings.Contains(string(b), "pkg:npm/uuid@11.1.1") {
			t.Errorf("the image SBOM %s does not list pkg:npm/uuid@11.1.1", image)
		}
		if strings.Contains(string(b), "pkg:npm/vitest@") {
			t.Errorf("the image SBOM %s lists vitest, a dev dependency", image)
		}
	})
	t.Run("report", func(t *testing.T) {
		if rep.Test == nil || rep.Test.Passed < 5 || rep.Test.Coverage < 80 || rep.Test.JUnit == "" || rep.Test.CoverProfile == "" {
			t.Errorf("test report %+v", rep.Test)
		}
		if rep.Image == nil || len(rep.Image.Platforms) != 1 || len(rep.Signatures) == 0 || len(rep.Attestations) < 3 {
			t.Errorf("image %+v, %d signatures, %d attestations", rep.Image, len(rep.Signatures), len(rep.Attestations))
		}
	})

	img := pulledImage(t, ref)
	t.Run("the image runs and answers its health endpoint", func(t *testing.T) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || len(cf.Config.Entrypoint) != 2 || cf.Config.Entrypoint[1] != "/app/dist/main.js" {
			t.Fatalf("config %+v", cf.Config)
		}
		root := extract(t, img)
		if _, err := os.Stat(filepath.Join(root, "app", "node_modules", "vitest")); err == nil {
			t.Error("the image holds vitest, a dev dependency")
		}
		runNodeService(t, root, cf.Config.Entrypoint)
	})

	t.Run("a one-line change uploads only the application layer", func(t *testing.T) {
		replaceInFile(t, filepath.Join(src, "src", "greeting.ts"), "hello, ", "hi, ")
		replaceInFile(t, filepath.Join(src, "test", "app.test.ts"), `"hello, paved"`, `"hi, paved"`)
		replaceInFile(t, filepath.Join(src, "test", "app.test.ts"), `"hello, world"`, `"hi, world"`)
		replaceInFile(t, filepath.Join(src, "test", "app.test.ts"), `"hello, world"`, `"hi, world"`) // it stands twice
		ref2 := run().lastLine()
		if digestPart(ref2) == digestPart(ref) {
			t.Fatal("the change did not change the image")
		}
		layers := func(ref string) []v1.Hash {
			ls, err := pulledImage(t, ref).Layers()
			if err != nil {
				t.Fatal(err)
			}
			var out []v1.Hash
			for _, l := range ls {
				d, _ := l.Digest()
				out = append(out, d)
			}
			return out
		}
		before, after := layers(ref), layers(ref2)
		if len(before) != len(after) {
			t.Fatalf("layers %v then %v", before, after)
		}
		for i := range before[:len(before)-1] {
			if before[i] != after[i] {
				t.Errorf("layer %d changed: %s to %s", i, before[i], after[i])
			}
		}
		second := up.take()
		app := after[len(after)-1].String()
		if !second[app] {
			t.Errorf("the new application layer %s was not uploaded (uploads %v)", app, second)
		}
		for _, l := range before[:len(before)-1] {
			if second[l.String()] {
				t.Errorf("layer %s was uploaded again", l)
			}
			if !firstUploads[l.String()] {
				t.Errorf("layer %s was not uploaded by the first run either: the proxy saw %v", l, firstUploads)
			}
		}
	})
}

// runNodeService starts the image's entrypoint from its extracted root
// (the host's node, from the layers) and asks its health endpoint.
func runNodeService(t *testing.T, root string, entrypoint []string) {
	t.Helper()
	addr := loopback.FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, entrypoint[0]), filepath.Join(root, entrypoint[1]))
	cmd.Env = []string{"PORT=" + port, "NODE_ENV=production"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	// The service says when it listens.
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var seen []string
		for sc.Scan() {
			seen = append(seen, sc.Text())
			if strings.Contains(sc.Text(), "listening") {
				ready <- ""
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- strings.Join(seen, "\n")
	}()
	select {
	case msg := <-ready:
		if msg != "" {
			t.Fatalf("the service exited before listening:\n%s", msg)
		}
	case <-time.After(time.Minute):
		t.Fatal("the service did not start listening within a minute")
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body["status"] != "ok" {
		t.Fatalf("GET /healthz: %d %v %v", resp.StatusCode, body, err)
	}
}

// A failing test fails the run with exit 1 and its name.
func TestTSServiceFailingTest(t *testing.T) {
	src := copyTSExample(t)
	replaceInFile(t, filepath.Join(src, "test", "app.test.ts"), `toEqual({ message: "hello, paved" })`, `toEqual({ message: "hello, nobody" })`)
	r := paved(t, nil, "run", "ts-service", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "http > greets") {
		t.Errorf("stderr does not name the failing test:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(src, ".paved", "image", "index.json")); err == nil {
		t.Error("an image was published although a test failed")
	}
}

// Coverage under the gate fails the run with exit 1 and the figure.
func TestTSServiceCoverageGate(t *testing.T) {
	src := copyTSExample(t)
	// Code no test calls lowers the coverage.
	os.WriteFile(filepath.Join(src, "src", "unused.ts"), []byte(strings.Repeat("export function f(x: number): number {\n  if (x > 1) {\n    return x * 2;\n  }\n  return x;\n}\n", 1)), 0o644)
	replaceInFile(t, filepath.Join(src, "src", "app.ts"), `import { greeting } from "./greeting.js";`, "import { greeting } from \"./greeting.js\";\nimport { f } from \"./unused.js\";\nexport const g = f;")
	r := paved(t, nil, "run", "ts-service", "--source", src, "--cache-dir", t.TempDir(), "--coverage", "99.9")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(src, ".paved", "test", "coverage", "coverage-summary.json"))
	if err != nil {
		t.Fatalf("the coverage summary was not exported: %v\n%s", err, r.stderr)
	}
	var sum struct {
		Total struct {
			Statements struct{ Total, Covered float64 } `json:"statements"`
		} `json:"total"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	figure := fmt.Sprintf("coverage %.1f%% is below the 99.9%% threshold", sum.Total.Statements.Covered*100/sum.Total.Statements.Total)
	if !strings.Contains(r.stderr, figure) {
		t.Errorf("stderr does not say %q:\n%s", figure, r.stderr)
	}
}

// A held vulnerable npm version fails the scan gate, offline, and nothing
// is published.
func TestTSServiceVulnerableDependency(t *testing.T) {
	src := copyTSExample(t)
	db := advisoryDB(t, `[{"id":"CVE-2099-5151","ecosystem":"npm","module":"uuid","affected":"<11.1.2","fixed":"11.1.2",
		"severity":"CRITICAL","title":"uuid: invented advisory for paved's tests"}]`)
	r := paved(t, nil, "run", "ts-service", "--source", src, "--cache-dir", t.TempDir(), "--vuln-db", db)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"CVE-2099-5151", "uuid", "11.1.1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
		}
	}
	if p, err := layout.FromPath(filepath.Join(src, ".paved", "image")); err == nil {
		if ii, err := p.ImageIndex(); err == nil {
			if im, _ := ii.IndexManifest(); im != nil && len(im.Manifests) > 0 {
				t.Error("an image was published although the scan gate failed")
			}
		}
	}
}
