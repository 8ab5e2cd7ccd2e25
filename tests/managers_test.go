package tests

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/nodemanager"
	"github.com/pavedhq/paved/runner"
)

// The frontend and ts-service paths with pnpm and yarn 1: a small project
// written by the test, its packages from the npm registry, the pinned
// manager from internal/testtools/nodemanager. The bundle and the service
// use escape-html, ms 2.1.3 and debug 2.6.9, which needs ms 2.0.0: two
// versions of ms, one of them nested (yarn) or in its own .pnpm directory
// (pnpm). c8, the test runner's coverage, is a development dependency.

// managerProject writes the project and has the manager write its
// lockfile, as the developer would; node_modules is removed, so paved
// installs it.
func managerProject(t *testing.T, manager string) string {
	t.Helper()
	nodemanager.OnPath(t, manager)
	dir := filepath.Join(t.TempDir(), manager+"-app")
	files := map[string]string{
		"package.json": `{
  "name": "` + manager + `-app",
  "version": "1.0.0",
  "private": true,
  "main": "server.js",
  "scripts": {
    "test": "c8 --reporter=json-summary --reporter=text node --test",
    "build": "node build.js"
  },
  "dependencies": { "escape-html": "1.0.3", "ms": "2.1.3", "debug": "2.6.9" },
  "devDependencies": { "c8": "10.1.3" }
}
`,
		"lib.js": "const escape = require('escape-html');\nconst ms = require('ms');\nconst debug = require('debug')('app');\n" +
			"exports.page = (s) => { debug('page %s', s); return '<p>' + escape(s) + '</p>'; };\n" +
			"exports.seconds = (s) => ms(s) / 1000;\n",
		"lib.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\nconst lib = require('./lib.js');\n" +
			"test('escapes', () => assert.strictEqual(lib.page('<x>'), '<p>&lt;x&gt;</p>'));\n" +
			"test('seconds', () => assert.strictEqual(lib.seconds('2m'), 120));\n",
		// A bundler in a few lines: the dependencies' sources inlined
		// into one hashed asset.
		"build.js": "const fs = require('fs');\nconst crypto = require('crypto');\n" +
			"const js = ['escape-html', 'ms', 'debug', './lib.js'].map((m) => fs.readFileSync(require.resolve(m), 'utf8')).join('\\n;\\n');\n" +
			"const h = crypto.createHash('sha256').update(js).digest('hex').slice(0, 8);\n" +
			"fs.mkdirSync('dist/assets', { recursive: true });\n" +
			"fs.writeFileSync('dist/assets/index-' + h + '.js', js);\n" +
			"fs.writeFileSync('dist/index.html', '<!doctype html><script src=\"/assets/index-' + h + '.js\"></script>\\n');\n",
		"server.js": "const http = require('http');\nconst lib = require('./lib.js');\n" +
			"http.createServer((req, res) => res.end(lib.page(req.url))).listen(process.env.PORT || 8080, () => console.log('listening'));\n",
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(manager, "install")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		ci.Unavailable(t, "%s install from the npm registry: %v\n%s", manager, err, out)
	}
	if err := os.RemoveAll(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// imageSBOMs returns the contents of the image SBOMs a run reported.
func imageSBOMs(t *testing.T, rep runner.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range rep.SBOM {
		if strings.Contains(filepath.Base(s.Path), "source") {
			continue
		}
		b, err := os.ReadFile(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		out[s.Path] = string(b)
	}
	if len(out) == 0 {
		t.Fatalf("no image SBOM in the report: %+v", rep.SBOM)
	}
	return out
}

// checkProductionSBOM fails unless every image SBOM lists each production
// package with its purl, both versions of ms among them, and no
// development package.
func checkProductionSBOM(t *testing.T, rep runner.Report) {
	t.Helper()
	for p, sbom := range imageSBOMs(t, rep) {
		for _, purl := range []string{"pkg:npm/escape-html@1.0.3", "pkg:npm/debug@2.6.9", "pkg:npm/ms@2.1.3", "pkg:npm/ms@2.0.0"} {
			if !strings.Contains(sbom, purl) {
				t.Errorf("%s does not list %s", p, purl)
			}
		}
		for _, dev := range []string{"pkg:npm/c8@", "pkg:npm/v8-to-istanbul@"} {
			if strings.Contains(sbom, dev) {
				t.Errorf("%s lists %s…, a development dependency", p, dev)
			}
		}
	}
}

// bundledVulnDB writes a vulnerability database with invented advisories for
// escape-html before 1.0.4 and ms before 2.1.0 (ms 2.0.0 is only there as
// debug's dependency).
func bundledVulnDB(t *testing.T) string {
	t.Helper()
	db := t.TempDir()
	list := filepath.Join(t.TempDir(), "advisories.json")
	if err := os.WriteFile(list, []byte(`[
		{"id":"CVE-2099-5152","ecosystem":"npm","module":"escape-html","affected":"<1.0.4","fixed":"1.0.4","severity":"CRITICAL","title":"escape-html: invented advisory for paved's tests"},
		{"id":"CVE-2099-5153","ecosystem":"npm","module":"ms","affected":"<2.1.0","fixed":"2.1.0","severity":"CRITICAL","title":"ms: invented advisory for paved's tests"}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(vulndbBin, "-o", db, "-advisories", list).CombinedOutput(); err != nil {
		t.Fatalf("vulndb: %v\n%s", err, out)
	}
	return db
}

// The frontend path with pnpm and with yarn 1: the image carries the
// manifests of the bundled production packages, so the SBOM lists them
// and the scan gate fails on a vulnerable one, publishing nothing.
func TestFrontendManagers(t *testing.T) {
	for _, manager := range []string{"pnpm", "yarn"} {
		t.Run(manager, func(t *testing.T) {
			src := managerProject(t, manager)
			runToLayout(t, nil, "frontend", src)
			rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
			if rep.Status != runner.Succeeded || rep.Test == nil || rep.Test.Coverage < 80 {
				t.Fatalf("report: status %s, test %+v", rep.Status, rep.Test)
			}
			t.Run("SBOM lists the bundled packages", func(t *testing.T) { checkProductionSBOM(t, rep) })

			t.Run("a vulnerable bundled package fails the scan gate", func(t *testing.T) {
				os.RemoveAll(filepath.Join(src, ".paved"))
				r := paved(t, nil, "run", "frontend", "--source", src, "--cache-dir", t.TempDir(), "--vuln-db", bundledVulnDB(t))
				checkGateRefused(t, r, src, "CVE-2099-5152", "escape-html", "1.0.3", "CVE-2099-5153", "2.0.0")
			})
		})
	}
}

// The ts-service path with pnpm and with yarn 1: the image's
// production-only node_modules (pnpm's: links into node_modules/.pnpm,
// kept as relative symbolic links) holds the production packages, Syft
// lists them all, and node resolves them in the extracted image.
func TestTSServiceManagers(t *testing.T) {
	for _, manager := range []string{"pnpm", "yarn"} {
		t.Run(manager, func(t *testing.T) {
			src := managerProject(t, manager)
			ref, _ := runToLayout(t, nil, "ts-service", src)
			rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
			if rep.Status != runner.Succeeded {
				t.Fatalf("report: status %s", rep.Status)
			}
			t.Run("SBOM lists the production packages", func(t *testing.T) { checkProductionSBOM(t, rep) })

			t.Run("node resolves them in the extracted image", func(t *testing.T) {
				idx, d := layoutIndex(t, ref)
				img, err := idx.Image(d)
				if err != nil {
					t.Fatal(err)
				}
				root := extractWithLinks(t, img)
				app := filepath.Join(root, "app")
				if m, _ := filepath.Glob(filepath.Join(app, "node_modules", "*c8*")); len(m) > 0 {
					t.Errorf("the image holds %v, development packages", m)
				}
				if m, _ := filepath.Glob(filepath.Join(app, "node_modules", ".pnpm", "c8@*")); len(m) > 0 {
					t.Errorf("the image holds %v, development packages", m)
				}
				node, err := exec.LookPath("node")
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(node, "-e", "const r = (m) => require(require.resolve(m + '/package.json', { paths: [require.resolve('debug')] })).version;"+
					"console.log(require('debug/package.json').version, require('ms/package.json').version, r('ms'), require('escape-html')('<'))")
				cmd.Dir = app
				out, err := cmd.CombinedOutput()
				if got := strings.TrimSpace(string(out)); err != nil || got != "2.6.9 2.1.3 2.0.0 &lt;" {
					t.Errorf("node in the extracted /app: %q, %v; want debug 2.6.9, ms 2.1.3, debug's ms 2.0.0", got, err)
				}
			})
			t.Run("same digest again", func(t *testing.T) {
				// A new production install (the manager's state files with
				// it), from a clean step cache.
				os.RemoveAll(filepath.Join(src, ".paved"))
				os.RemoveAll(filepath.Join(src, "dist"))
				if ref2, _ := runToLayout(t, nil, "ts-service", src); digestPart(ref2) != digestPart(ref) {
					t.Errorf("digests differ between runs: %s then %s", ref, ref2)
				}
			})
		})
	}
}

// layoutIndex opens the index an oci:DIR@sha256:… reference names and
// returns it with its first manifest's digest.
func layoutIndex(t *testing.T, ref string) (v1.ImageIndex, v1.Hash) {
	t.Helper()
	dir, _, _ := strings.Cut(strings.TrimPrefix(ref, "oci:"), "@")
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) == 0 {
		t.Fatalf("%s: %v", ref, err)
	}
	// The layout lists the published index; its first platform image.
	if m.Manifests[0].MediaType.IsIndex() {
		inner, err := idx.ImageIndex(m.Manifests[0].Digest)
		if err != nil {
			t.Fatal(err)
		}
		im, err := inner.IndexManifest()
		if err != nil || len(im.Manifests) == 0 {
			t.Fatalf("%s: %v", ref, err)
		}
		return inner, im.Manifests[0].Digest
	}
	return idx, m.Manifests[0].Digest
}

// extractWithLinks extracts the image (extract) and makes its symbolic
// links under /app, each of which must be relative and stay in the image.
func extractWithLinks(t *testing.T, img v1.Image) string {
	t.Helper()
	root := extract(t, img)
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	links := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeSymlink || !strings.HasPrefix(name, "app/") {
			continue
		}
		target := path.Join(path.Dir(name), h.Linkname)
		if path.IsAbs(h.Linkname) || !strings.HasPrefix(target, "app/") {
			t.Errorf("%s links to %s, out of /app", name, h.Linkname)
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.Symlink(h.Linkname, p); err != nil {
			t.Fatal(err)
		}
		links++
	}
	t.Logf("%d symbolic links under /app", links)
	return root
}
