package tests

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/runner"
)

// TestVerbsOnAPublishedImage composes a pipeline from the verbs, as a team
// or a per-verb Tekton Task would: paved build publishes, then paved sbom,
// scan, sign and attest each work on the image by digest in a real
// registry, and the cosign CLI checks what sign and attest wrote.
func TestVerbsOnAPublishedImage(t *testing.T) {
	reg := registry(t)
	cosign := testtools.Cosign(t, testtools.CosignV3)
	src := copyExample(t)
	key, pub := keyPair(t, cosign, keyPassword)
	cache := t.TempDir()
	pw := []string{"COSIGN_PASSWORD=" + keyPassword}

	built := paved(t, nil, "build", "--source", src, "--image", reg+"/demo/verbs", "--cache-dir", cache)
	if built.code != 0 {
		t.Fatalf("paved build exited %d\n%s", built.code, built.stderr)
	}
	ref := built.lastLine()

	verb := func(t *testing.T, env []string, args ...string) (result, runner.Report) {
		t.Helper()
		report := filepath.Join(t.TempDir(), "report.json")
		r := paved(t, env, append(args, "--cache-dir", cache, "--report", report)...)
		if r.code != 0 {
			t.Fatalf("paved %s exited %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		if r.lastLine() != ref {
			t.Errorf("last line %q, want %s", r.lastLine(), ref)
		}
		rep := readReport(t, report)
		if rep.Image == nil || rep.Image.Ref != ref || len(rep.Image.Platforms) != 2 {
			t.Errorf("report image %+v", rep.Image)
		}
		return r, rep
	}

	t.Run("sbom", func(t *testing.T) {
		_, rep := verb(t, nil, "sbom", ref, "--source", src)
		if len(rep.SBOM) != 6 { // SPDX and CycloneDX of two platforms and the source
			t.Fatalf("%d SBOMs: %+v", len(rep.SBOM), rep.SBOM)
		}
		// Again: the step cache serves it, as in paved run.
		_, again := verb(t, nil, "sbom", ref, "--source", src)
		for _, s := range again.Steps {
			if !s.Cached {
				t.Errorf("second run: step %s not cached", s.Name)
			}
		}
	})
	t.Run("scan", func(t *testing.T) {
		_, rep := verb(t, nil, "scan", ref, "--source", src, "--vuln-db", vulnDB(t, false))
		if rep.Scan == nil || !rep.Scan.Passed || rep.Scan.Status != "scanned" {
			t.Fatalf("scan %+v", rep.Scan)
		}
	})
	t.Run("scan gate fails with exit 1", func(t *testing.T) {
		r := paved(t, nil, "scan", ref, "--source", src, "--vuln-db", vulnDB(t, true), "--cache-dir", cache)
		if r.code != 1 || !strings.Contains(r.stderr, "CVE-2099-4242") {
			t.Fatalf("exit %d, want 1 naming CVE-2099-4242\n%s", r.code, r.stderr)
		}
	})
	t.Run("sign", func(t *testing.T) {
		_, rep := verb(t, pw, "sign", ref, "--key", key)
		if len(rep.Signatures) != 3 {
			t.Fatalf("%d signatures, want the index's and two platforms'", len(rep.Signatures))
		}
		if r := paved(t, nil, "verify", ref, "--key", pub); r.code != 0 {
			t.Fatalf("paved verify exited %d\n%s", r.code, r.stderr)
		}
		if out, err := cosignRun(t, cosign, "verify", "--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry", ref); err != nil {
			t.Fatalf("cosign verify: %v\n%s", err, out)
		}
	})
	t.Run("attest", func(t *testing.T) {
		_, rep := verb(t, pw, "attest", ref, "--source", src, "--key", key)
		if len(rep.Attestations) < 3 {
			t.Fatalf("attestations %+v", rep.Attestations)
		}
		for _, typ := range []string{"slsaprovenance1", "spdxjson", "cyclonedx"} {
			if out, err := cosignRun(t, cosign, "verify-attestation", "--type", typ, "--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry", ref); err != nil {
				t.Fatalf("cosign verify-attestation --type %s: %v\n%s", typ, err, out)
			}
		}
	})
	t.Run("bad usage exits 2 naming the argument or flag", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"sbom", reg + "/demo/verbs:latest"}, `REF "` + reg + `/demo/verbs:latest"`},
			{[]string{"sign", ref}, "--key"},
			{[]string{"scan", ref, "--source", t.TempDir()}, "--source"},
		} {
			r := paved(t, nil, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("paved %s: exit %d, want 2 naming %q\n%s", strings.Join(tc.args, " "), r.code, tc.want, r.stderr)
			}
		}
	})
}
