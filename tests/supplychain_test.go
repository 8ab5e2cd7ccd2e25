package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/runner"
)

// The password and the token are distinctive so a leak is easy to find.
const (
	keyPassword = "pw-Zq81-never-printed"
	fakeToken   = "token-Zq81-never-printed"
)

// vulnDB writes an offline database; vulnerable marks the example's
// github.com/google/uuid v1.6.0 as CRITICAL with a fix (an invented
// advisory), otherwise the demo set, which nothing in the example matches.
func vulnDB(t *testing.T, vulnerable bool) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-o", dir}
	if vulnerable {
		list := filepath.Join(t.TempDir(), "advisories.json")
		os.WriteFile(list, []byte(`[{"id":"CVE-2099-4242","goId":"GO-2099-4242","module":"github.com/google/uuid",
			"affected":"<1.6.1","fixed":"1.6.1","severity":"CRITICAL","title":"uuid: invented advisory for paved's tests",
			"symbols":["NewString"]}]`), 0o644)
		args = append(args, "-advisories", list)
	}
	if out, err := exec.Command(vulndbBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("vulndb: %v\n%s", err, out)
	}
	return dir
}

// keyPair makes a cosign key pair with the real cosign CLI.
func keyPair(t *testing.T, cosign, password string) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// signer is what an acceptance test publishes to and signs with: a
// registry on loopback, the cosign CLI, and a cosign key pair whose
// private key COSIGN_PASSWORD=keyPassword opens.
type signer struct {
	registry, cosign, key, pub string
}

// newSigner starts the registry first: where it is missing, the test ends
// before building cosign.
func newSigner(t *testing.T) signer {
	t.Helper()
	reg := registry(t)
	cosign := testtools.Cosign(t, testtools.CosignV3)
	key, pub := keyPair(t, cosign, keyPassword)
	return signer{registry: reg, cosign: cosign, key: key, pub: pub}
}

// verify checks ref with the cosign CLI, in subtests: its signature and its
// SLSA provenance, SPDX and CycloneDX attestations, by the public key and
// with no transparency log.
func (s signer) verify(t *testing.T, ref string) {
	t.Helper()
	insecure := []string{"--key", s.pub, "--insecure-ignore-tlog", "--allow-insecure-registry"}
	t.Run("cosign verify", func(t *testing.T) {
		if out, err := cosignRun(t, s.cosign, append(append([]string{"verify"}, insecure...), ref)...); err != nil {
			t.Fatalf("cosign verify: %v\n%s", err, out)
		}
	})
	for _, typ := range []string{"slsaprovenance1", "spdxjson", "cyclonedx"} {
		t.Run("cosign verify-attestation "+typ, func(t *testing.T) {
			if out, err := cosignRun(t, s.cosign, append(append([]string{"verify-attestation", "--type", typ}, insecure...), ref)...); err != nil {
				t.Fatalf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
			}
		})
	}
}

func cosignRun(t *testing.T, cosign string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(cosign, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestSupplyChainVerifiesWithCosign runs the whole golden path with a key
// against a real registry, then checks what it published with the
// ecosystem's own tool.
func TestSupplyChainVerifiesWithCosign(t *testing.T) {
	sg := newSigner(t)
	reg, cosign, key := sg.registry, sg.cosign, sg.key
	src := copyExample(t)
	repo := reg + "/demo/signed"
	report := filepath.Join(t.TempDir(), "report.json")
	r := paved(t, []string{"COSIGN_PASSWORD=" + keyPassword, "SIGSTORE_ID_TOKEN=" + fakeToken},
		"run", "go-service", "--source", src, "--image", repo, "--key", key, "--vuln-db", vulnDB(t, false),
		"--cache-dir", t.TempDir(), "--report", report)
	if r.code != 0 {
		t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
	}
	ref := r.lastLine()
	sg.verify(t, ref)
	t.Run("another key fails", func(t *testing.T) {
		_, otherPub := keyPair(t, cosign, "other")
		if out, err := cosignRun(t, cosign, "verify", "--key", otherPub, "--insecure-ignore-tlog", "--allow-insecure-registry", ref); err == nil {
			t.Fatalf("cosign verify with another key passed:\n%s", out)
		}
	})
	t.Run("report", func(t *testing.T) {
		rep := readReport(t, report)
		if len(rep.SBOM) < 4 || rep.Scan == nil || !rep.Scan.Passed || len(rep.Signatures) != 3 || len(rep.Attestations) < 3 {
			t.Fatalf("report: sbom %d, scan %+v, signatures %d, attestations %d", len(rep.SBOM), rep.Scan, len(rep.Signatures), len(rep.Attestations))
		}
		for _, s := range rep.SBOM {
			if _, err := os.Stat(s.Path); err != nil {
				t.Errorf("SBOM %s: %v", s.Format, err)
			}
		}
		var sarif struct {
			Version string `json:"version"`
			Runs    []any  `json:"runs"`
		}
		b, err := os.ReadFile(rep.Scan.SARIF)
		if err != nil || json.Unmarshal(b, &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs) == 0 {
			t.Fatalf("SARIF %s: version %q, %d runs, %v", rep.Scan.SARIF, sarif.Version, len(sarif.Runs), err)
		}
	})
	t.Run("no secret anywhere", func(t *testing.T) {
		keyPEM, _ := os.ReadFile(key)
		secrets := map[string][]byte{"password": []byte(keyPassword), "token": []byte(fakeToken), "private key": privateKeyBody(keyPEM)}
		places := map[string][]byte{"stdout": []byte(r.stdout), "stderr": []byte(r.stderr)}
		filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() && strings.Contains(p, "/.paved/") {
				b, _ := os.ReadFile(p)
				places[p] = b
			}
			return nil
		})
		places["report"], _ = os.ReadFile(report)
		for what, b := range testtools.RegistryContents(t, reg) {
			places[what] = b
		}
		for where, b := range places {
			for what, secret := range secrets {
				if len(secret) > 0 && bytes.Contains(b, secret) {
					t.Errorf("the %s appears in %s", what, where)
				}
			}
		}
		if len(places) < 10 {
			t.Fatalf("looked in only %d places", len(places))
		}
	})
}

// privateKeyBody is the base64 body of a PEM key, the part that would leak.
func privateKeyBody(pem []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(pem)), "\n")
	if len(lines) < 3 {
		return pem
	}
	return []byte(strings.Join(lines[1:len(lines)-1], ""))
}

// TestScanGateOffline: the gate fails the run on a known-vulnerable
// dependency with a fix, entirely offline, and nothing is published.
func TestScanGateOffline(t *testing.T) {
	src := copyExample(t)
	out := t.TempDir()
	r := paved(t, []string{"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9"},
		"run", "go-service", "--source", src, "--vuln-db", vulnDB(t, true), "--cache-dir", t.TempDir(), "--image", "oci:"+out)
	if r.code != 1 || !strings.Contains(r.stderr, "CVE-2099-4242") {
		t.Fatalf("exit %d, want 1 naming CVE-2099-4242\n%s", r.code, r.stderr)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Scan == nil || rep.Scan.Passed || rep.Scan.Counts["CRITICAL"] == 0 || rep.Image != nil {
		t.Fatalf("report: scan %+v, image %+v", rep.Scan, rep.Image)
	}
	for _, s := range rep.Steps {
		if s.Name == "publish" && s.Status != runner.Skipped {
			t.Fatalf("publish %s after a failed gate", s.Status)
		}
	}
	// The same service with the demo database passes.
	clean := paved(t, []string{"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9"},
		"run", "go-service", "--source", src, "--vuln-db", vulnDB(t, false), "--cache-dir", t.TempDir(), "--image", "oci:"+out)
	if clean.code != 0 {
		t.Fatalf("clean database: exit %d\n%s", clean.code, clean.stderr)
	}
}

// TestScanFailsClosedWithoutDatabases: with no database for any scanner
// the run exits 1 naming each missing database and publishes nothing;
// --scan-required=false, or scan.required: false in paved.yaml, publishes
// and the report says "not scanned".
func TestScanFailsClosedWithoutDatabases(t *testing.T) {
	src := copyExample(t)
	out := filepath.Join(t.TempDir(), "layout")
	empty := t.TempDir()
	offline := []string{"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9"}
	published := func() bool {
		_, err := os.Stat(filepath.Join(out, "index.json"))
		return err == nil
	}
	checkRefused := func(t *testing.T, r result, names ...string) {
		t.Helper()
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
		}
		for _, s := range names {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("stderr does not name %q:\n%s", s, r.stderr)
			}
		}
		if published() {
			t.Errorf("an unscanned image was published to %s", out)
		}
		rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
		if rep.Scan == nil || rep.Scan.Status != "not scanned" || rep.Scan.Passed || len(rep.Scan.Missing) != 2 || rep.Image != nil {
			t.Errorf("report: scan %+v, image %+v", rep.Scan, rep.Image)
		}
		for _, s := range rep.Steps {
			if (s.Name == "publish" || s.Name == "sign") && s.Status == runner.Succeeded {
				t.Errorf("%s %s after the scan could not run", s.Name, s.Status)
			}
		}
	}

	t.Run("empty database directory", func(t *testing.T) {
		r := paved(t, offline, "run", "go-service", "--source", src, "--vuln-db", empty, "--cache-dir", t.TempDir(), "--image", "oci:"+out)
		checkRefused(t, r,
			"not scanned", "no Trivy vulnerability database in "+filepath.Join(empty, "db"),
			"no Go vulnerability database in "+filepath.Join(empty, "govulndb"), "--scan-required=false")
	})
	t.Run("no database and no network", func(t *testing.T) {
		// "--vuln-db=" (no database directory) keeps the helper from adding
		// the demo database: the scanners try to download theirs and cannot.
		env := append([]string{"XDG_CACHE_HOME=" + t.TempDir(), "GOCACHE=" + goEnv(t, "GOCACHE")}, offline...)
		r := paved(t, env, "run", "go-service", "--source", src, "--vuln-db=", "--cache-dir", t.TempDir(), "--image", "oci:"+out)
		checkRefused(t, r, "not scanned", "no Trivy vulnerability database: ", "no Go vulnerability database: https://vuln.go.dev")
	})
	t.Run("opted out with the flag", func(t *testing.T) {
		r := paved(t, offline, "run", "go-service", "--source", src, "--vuln-db", empty, "--cache-dir", t.TempDir(), "--image", "oci:"+out, "--scan-required=false")
		if r.code != 0 || !published() {
			t.Fatalf("exit %d, published %v\n%s", r.code, published(), r.stderr)
		}
		if !strings.Contains(r.stderr, "not scanned") {
			t.Errorf("stderr does not say the image was not scanned:\n%s", r.stderr)
		}
		rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
		if rep.Scan == nil || rep.Scan.Status != "not scanned" || rep.Scan.Passed || len(rep.Scan.Missing) != 2 || rep.Image == nil {
			t.Errorf("report: scan %+v, image %+v", rep.Scan, rep.Image)
		}
	})
	t.Run("opted out in paved.yaml, path from paved.yaml", func(t *testing.T) {
		os.RemoveAll(out)
		f, err := os.OpenFile(filepath.Join(src, "paved.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("scan:\n  required: false\n")
		f.Close()
		// No PIPELINE: paved.yaml's path: go-service names it.
		r := paved(t, offline, "run", "--source", src, "--vuln-db", empty, "--cache-dir", t.TempDir(), "--image", "oci:"+out)
		if r.code != 0 || !published() {
			t.Fatalf("exit %d, published %v\n%s", r.code, published(), r.stderr)
		}
		rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
		if rep.Pipeline != "go-service" || rep.Team != "payments" || rep.Service != "go-service" {
			t.Errorf("pipeline %q, team %q, service %q", rep.Pipeline, rep.Team, rep.Service)
		}
		if rep.Scan == nil || rep.Scan.Status != "not scanned" {
			t.Errorf("report: scan %+v", rep.Scan)
		}
		// The flag overrides the file: required again, refused again.
		os.RemoveAll(out)
		r = paved(t, offline, "run", "--source", src, "--vuln-db", empty, "--cache-dir", t.TempDir(), "--image", "oci:"+out, "--scan-required")
		checkRefused(t, r, "not scanned")
	})
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}
