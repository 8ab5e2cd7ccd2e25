package tests

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/hostbase"
)

// What the acceptance tests of the golden paths on other languages
// (ts-service, frontend, python-batch) share.

// copyNodeExample copies examples/name as a fresh clone has it: without
// node_modules, the build's output, coverage and a run's outputs. Where
// npm is not installed the test is skipped (failed in CI), saying missing.
func copyNodeExample(t *testing.T, example, missing string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		ci.Unavailable(t, "%s", missing)
	}
	from, to := filepath.Join("../examples", example), filepath.Join(t.TempDir(), example)
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "dist", "coverage", ".paved":
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// runToLayout runs the golden path named path on src with its defaults
// and a fresh step cache: with no --image it publishes to the OCI layout
// in src/.paved. The test fails unless the run succeeds and names that
// layout's image; runToLayout returns the reference and the run's stderr.
func runToLayout(t *testing.T, env []string, path, src string) (ref, stderr string) {
	t.Helper()
	r := paved(t, env, "run", path, "--source", src, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("paved run %s exited %d\n%s", path, r.code, r.stderr)
	}
	ref = r.lastLine()
	if !strings.HasPrefix(ref, "oci:"+filepath.Join(src, ".paved", "image")+"@sha256:") {
		t.Fatalf("last line %q", ref)
	}
	return ref, r.stderr
}

// hostPlatform is the --platform of the images on a base made from this
// machine (internal/testtools/hostbase).
func hostPlatform() string { return hostbase.Platform.OS + "/" + hostbase.Platform.Architecture }

// uploads counts the blobs pushed through a proxy to a registry, by digest.
type uploads struct {
	mu      sync.Mutex
	digests map[string]bool
}

// take returns the digests uploaded since the last take.
func (u *uploads) take() map[string]bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	d := u.digests
	u.digests = map[string]bool{}
	return d
}

// blobProxy forwards to the registry and records each finished blob
// upload's digest (the ?digest= of its last PUT).
func blobProxy(t *testing.T, reg string) (string, *uploads) {
	t.Helper()
	target, _ := url.Parse("http://" + reg)
	u := &uploads{digests: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := r.URL.Query().Get("digest"); r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") && d != "" {
			u.mu.Lock()
			u.digests[d] = true
			u.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), u
}

// runToRegistry readies runs of the golden path named path on src to
// repo in sg's registry, through a blobProxy that counts the uploads, on
// base for this machine's platform, signed with sg's key; the runs share
// one step cache and write the report at report. run fails the test
// unless paved succeeds.
func runToRegistry(t *testing.T, sg signer, env []string, path, src, base, repo string) (run func() result, report string, up *uploads) {
	t.Helper()
	proxy, up := blobProxy(t, sg.registry)
	cache := t.TempDir()
	report = filepath.Join(t.TempDir(), "report.json")
	env = append(env[:len(env):len(env)], "COSIGN_PASSWORD="+keyPassword)
	run = func() result {
		t.Helper()
		r := paved(t, env, "run", path, "--source", src, "--image", proxy+"/"+repo,
			"--base", base, "--platform", hostPlatform(), "--key", sg.key, "--cache-dir", cache, "--report", report)
		if r.code != 0 {
			t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
		}
		return r
	}
	return run, report, up
}

// advisoryDB is an offline vulnerability database of the demo set and
// advisories, a JSON list of invented advisories as the vulndb program
// reads them.
func advisoryDB(t *testing.T, advisories string) string {
	t.Helper()
	db, list := t.TempDir(), filepath.Join(t.TempDir(), "advisories.json")
	if err := os.WriteFile(list, []byte(advisories), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(vulndbBin, "-o", db, "-advisories", list).CombinedOutput(); err != nil {
		t.Fatalf("vulndb: %v\n%s", err, out)
	}
	return db
}

// pulledImage is the one image of the index ref names by digest.
func pulledImage(t *testing.T, ref string) v1.Image {
	t.Helper()
	d, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index %s lists %d manifests, want one", ref, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
