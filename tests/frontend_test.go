package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/runner"
)

// copyFrontend copies examples/frontend as a fresh clone has it.
func copyFrontend(t *testing.T) string {
	t.Helper()
	return copyNodeExample(t, "frontend", "npm is not installed (Node.js 20.19 or later)")
}

// npmInstalled runs npm ci once in a scratch copy, as a developer's npm
// install does: it fills npm's cache, so that paved's runs can be offline.
func npmInstalled(t *testing.T) {
	t.Helper()
	dir := copyFrontend(t)
	cmd := exec.Command("npm", "ci", "--prefer-offline", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
}

// offline keeps npm from the network: every package must come from its cache.
var offline = []string{"npm_config_offline=true"}

// TestFrontendToRegistry is the frontend path's acceptance: offline, a
// signed and attested image in a real registry, the same digest twice, an
// SBOM listing the bundled npm package, and the extracted image serving
// the application.
func TestFrontendToRegistry(t *testing.T) {
	sg := newSigner(t)
	npmInstalled(t)
	src := copyFrontend(t)
	key := sg.key
	repo := sg.registry + "/web/frontend"
	report := filepath.Join(t.TempDir(), "report.json")
	env := append([]string{"COSIGN_PASSWORD=" + keyPassword}, offline...)
	r := paved(t, env, "run", "frontend", "--source", src, "--image", repo, "--key", key, "--cache-dir", t.TempDir(), "--report", report)
	if r.code != 0 {
		t.Fatalf("paved run frontend exited %d\n%s", r.code, r.stderr)
	}
	ref := r.lastLine()
	if !strings.HasPrefix(ref, repo+"@sha256:") {
		t.Fatalf("last line %q, want %s@sha256:…", ref, repo)
	}

	t.Run("same digest again", func(t *testing.T) {
		again := paved(t, env, "run", "frontend", "--source", copyFrontend(t), "--image", repo, "--key", key, "--cache-dir", t.TempDir())
		if again.code != 0 || again.lastLine() != ref {
			t.Fatalf("second run: exit %d, ref %q, want %q\n%s", again.code, again.lastLine(), ref, again.stderr)
		}
	})

	sg.verify(t, ref)

	rep := readReport(t, report)
	t.Run("report", func(t *testing.T) {
		if rep.Status != runner.Succeeded || rep.Test == nil || rep.Test.Passed != 4 || rep.Test.Coverage < 80 {
			t.Fatalf("report: status %s, test %+v", rep.Status, rep.Test)
		}
		if rep.Image == nil || len(rep.Image.Platforms) != 2 || len(rep.Signatures) != 3 || len(rep.Attestations) < 3 {
			t.Fatalf("report: image %+v, %d signatures, %d attestations", rep.Image, len(rep.Signatures), len(rep.Attestations))
		}
	})

	t.Run("SBOM lists the bundled npm package", func(t *testing.T) {
		var image []string
		for _, s := range rep.SBOM {
			if !strings.Contains(filepath.Base(s.Path), "source") {
				image = append(image, s.Path)
			}
		}
		if len(image) == 0 {
			t.Fatalf("no image SBOM in the report: %+v", rep.SBOM)
		}
		for _, p := range image {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "pkg:npm/escape-html@1.0.3") {
				t.Errorf("%s does not list pkg:npm/escape-html@1.0.3", p)
			}
			if strings.Contains(string(b), "pkg:npm/vite@") {
				t.Errorf("%s lists vite, a development dependency not in the bundle", p)
			}
		}
	})

	t.Run("the extracted image serves the application", func(t *testing.T) {
		requireLinuxAMD64(t)
		img := platformImage(t, ref, "amd64")
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/app/paved-static" {
			t.Fatalf("config: user %q, entrypoint %q; want nonroot running /app/paved-static", cf.Config.User, cf.Config.Entrypoint)
		}
		root := extract(t, img)
		serveExtracted(t, root, cf.Config.Env)
	})
}

// platformImage is the image of one architecture of the index ref names.
func platformImage(t *testing.T, ref, arch string) v1.Image {
	t.Helper()
	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == arch {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no %s image in %s", arch, ref)
	return nil
}

// serveExtracted runs the image's server from its extracted layers (it is
// static, so no chroot is needed) with the image's environment, the site
// directory moved under root, and checks what it serves.
func serveExtracted(t *testing.T, root string, env []string) {
	t.Helper()
	var siteDir string
	cmd := exec.Command(filepath.Join(root, "app", "paved-static"), "--port", "0")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PAVED_STATIC_ROOT="); ok {
			siteDir = filepath.Join(root, v)
			kv = "PAVED_STATIC_ROOT=" + siteDir
		}
		cmd.Env = append(cmd.Env, kv)
	}
	if siteDir == "" {
		t.Fatalf("the image's environment %q sets no PAVED_STATIC_ROOT", env)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() {
		t.Fatalf("the server said nothing: %v", lines.Err())
	}
	_, addr, _ := strings.Cut(lines.Text(), " on ")
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("first line %q: %v", lines.Text(), err)
	}
	go io.Copy(io.Discard, stderr)
	base := "http://127.0.0.1:" + port

	index, err := os.ReadFile(filepath.Join(siteDir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), "GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		// The transport would ask for gzip and decode it itself.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("/users/ada")
	if resp.StatusCode != 200 || body != string(index) || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("unknown route: %d, Cache-Control %q, index.html served: %v", resp.StatusCode, resp.Header.Get("Cache-Control"), body == string(index))
	}
	assets, _ := filepath.Glob(filepath.Join(siteDir, "assets", "index-*.js"))
	if len(assets) != 1 {
		t.Fatalf("assets %v, want one index-HASH.js", assets)
	}
	asset := "/assets/" + filepath.Base(assets[0])
	resp, body = get(asset, "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s: %d, Cache-Control %q", asset, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	br, err := os.ReadFile(assets[0] + ".br")
	if err != nil {
		t.Fatalf("no precompressed sibling in the image: %v", err)
	}
	if resp.Header.Get("Content-Encoding") != "br" || body != string(br) || resp.Header.Get("Vary") != "Accept-Encoding" ||
		resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || resp.Header.Get("Content-Length") != fmt.Sprint(len(br)) {
		t.Errorf("%s with br: encoding %q, type %q, length %q, vary %q, body is the .br file: %v", asset, resp.Header.Get("Content-Encoding"),
			resp.Header.Get("Content-Type"), resp.Header.Get("Content-Length"), resp.Header.Get("Vary"), body == string(br))
	}
	if resp, _ := get("/assets/index-00000000.js"); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d, want 404", resp.StatusCode)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	// The package manifests are in the image, not served.
	if _, err := os.Stat(filepath.Join(root, "app", "bundled", "node_modules", "escape-html", "package.json")); err != nil {
		t.Errorf("bundled package manifest: %v", err)
	}
	if resp, _ := get("/../bundled/package.json"); resp.StatusCode != 404 {
		t.Errorf("a path out of the site: %d, want 404", resp.StatusCode)
	}
}

// A failing test fails the run (exit 1) and the report and stderr name it.
func TestFrontendFailingTest(t *testing.T) {
	npmInstalled(t)
	src := copyFrontend(t)
	replaceInFile(t, filepath.Join(src, "src", "app.test.js"), "toContain('<h1>About</h1>')", "toContain('<h1>Contact</h1>')")
	r := paved(t, offline, "run", "frontend", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "renders each page") {
		t.Fatalf("stderr does not name the failed test:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "@sha256:") {
		t.Fatalf("an image was published although a test failed: %s", r.stdout)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Test == nil || len(rep.Test.Failures) != 1 || !strings.Contains(rep.Test.Failures[0].Test, "renders each page") {
		t.Fatalf("report does not name the failure: %+v", rep.Test)
	}
}

// Coverage under the gate fails the run (exit 1) with the figure.
func TestFrontendCoverageGate(t *testing.T) {
	npmInstalled(t)
	src := copyFrontend(t)
	var untested strings.Builder
	untested.WriteString("export function untested(n) {\n")
	for i := range 40 {
		fmt.Fprintf(&untested, "  n += %d;\n", i)
	}
	untested.WriteString("  return n;\n}\n")
	if err := os.WriteFile(filepath.Join(src, "src", "untested.js"), []byte(untested.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := paved(t, offline, "run", "frontend", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Test == nil || rep.Test.Coverage >= 80 || rep.Test.Coverage <= 0 {
		t.Fatalf("report test %+v, want coverage between 0 and 80", rep.Test)
	}
	if figure := fmt.Sprintf("%.1f%%", rep.Test.Coverage); !strings.Contains(r.stderr, figure) || !strings.Contains(r.stderr, "80") {
		t.Fatalf("stderr does not give the coverage %s against 80%%:\n%s", figure, r.stderr)
	}
	var summary map[string]json.RawMessage
	if b, err := os.ReadFile(rep.Test.CoverProfile); err != nil || json.Unmarshal(b, &summary) != nil || summary["total"] == nil {
		t.Errorf("coverage summary %q: %v", rep.Test.CoverProfile, err)
	}
}

// A held vulnerable version of a package bundled into the site fails the
// scan gate, offline, and nothing is published. The bundle inlines the
// package, so only the manifests under /app/bundled let Trivy find it.
func TestFrontendVulnerableDependency(t *testing.T) {
	npmInstalled(t)
	src := copyFrontend(t)
	db := advisoryDB(t, `[{"id":"CVE-2099-5152","ecosystem":"npm","module":"escape-html","affected":"<1.0.4","fixed":"1.0.4",
		"severity":"CRITICAL","title":"escape-html: invented advisory for paved's tests"}]`)
	r := paved(t, offline, "run", "frontend", "--source", src, "--cache-dir", t.TempDir(), "--vuln-db", db)
	checkGateRefused(t, r, src, "CVE-2099-5152", "escape-html", "1.0.3")
}

// checkGateRefused fails unless the run exited 1 naming each of want on
// stderr, and published, wrote and reported no image.
func checkGateRefused(t *testing.T, r result, src string, want ...string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	if strings.Contains(r.stdout, "@sha256:") {
		t.Errorf("an image was published although the scan gate failed: %s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(src, ".paved", "image", "index.json")); err == nil {
		t.Error("an image was written to the source's .paved/image although the scan gate failed")
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Status == runner.Succeeded || rep.Image != nil {
		t.Errorf("report: status %s, image %+v", rep.Status, rep.Image)
	}
}
