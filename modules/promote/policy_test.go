package promote

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavedhq/paved/modules/scan/expiry"
)

func TestParsePolicyDefaults(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Environment != "production" || p.APIVersion != PolicyAPIVersion {
		t.Errorf("environment %q, apiVersion %q", p.Environment, p.APIVersion)
	}
	if !Required(p.Provenance.Required) || !Required(p.SBOM.Required) || !Required(p.Scan.Required) {
		t.Error("an empty policy must require provenance, an SBOM and a scan")
	}
	if len(p.Scan.Severities) != 1 || p.Scan.Severities[0] != "CRITICAL" || p.Scan.AnyFix {
		t.Errorf("scan gate %+v, want CRITICAL with a fix", p.Scan)
	}
}

func TestLoadPolicyResolvesPathsNextToTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.yaml")
	os.WriteFile(path, []byte(`
environment: staging
signers:
  - key: keys/release.pub
  - key: awskms:///alias/release
  - issuer: https://token.actions.githubusercontent.com
    identityRegexp: ^https://github.com/acme/
    trustedRoot: root.json
provenance:
  builders: ["https://github.com/acme/.github/workflows/release.yml@*"]
  sourceRepositories: [https://github.com/acme/api]
sbom:
  formats: [spdx]
scan:
  severities: [CRITICAL, HIGH]
  ignore:
    - id: CVE-2024-1
      reason: not reachable
      expires: 2099-01-01
`), 0o644)
	p, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Signers[0].Key; got != filepath.Join(dir, "keys/release.pub") {
		t.Errorf("key path %q", got)
	}
	if got := p.Signers[1].Key; got != "awskms:///alias/release" {
		t.Errorf("a KMS URI must stay as is, got %q", got)
	}
	if got := p.Signers[2].TrustedRoot; got != filepath.Join(dir, "root.json") {
		t.Errorf("trusted root %q", got)
	}
	if p.Environment != "staging" || len(p.Scan.Severities) != 2 || p.SBOM.Formats[0] != "spdx" {
		t.Errorf("policy %+v", p)
	}
}

func TestParsePolicyErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ doc, field string }{
		{"signers:\n  - key: a\n    issuer: b\n    identity: c\n", "signers[0]"},
		{"signers:\n  - issuer: b\n", "signers[0]"},
		{"signers:\n  - issuer: b\n    identity: c\n    identityRegexp: d\n", "signers[0]"},
		{"signers:\n  - issuer: b\n    identityRegexp: '('\n", "signers[0].identityRegexp"},
		{"signers:\n  - key: k\n    trustedRoot: r\n", "signers[0].trustedRoot"},
		{"signers:\n  - kee: k\n", "signers[].kee"},
		{"provenance:\n  builder: x\n", "provenance.builder"},
		{"provenance:\n  builders: ['*']\n", "provenance.builders[0]"},
		{"provenance:\n  required: false\n  builders: [x]\n", "provenance"},
		{"sbom:\n  formats: [swid]\n", "sbom.formats[0]"},
		{"scan:\n  severities: [SEVERE]\n", "scan.severities"},
		{"scan:\n  ignore:\n    - id: CVE-1\n      expires: 2099-01-01\n", "scan.ignore[0]"},
		{"scan:\n  ignore:\n    - id: CVE-1\n      reason: r\n", "scan.ignore[0].expires"},
		{"scan:\n  ignore:\n    - id: CVE-1\n      reason: r\n      expires: 2099-01-01\n      until: x\n", "scan.ignore[].until"},
		{"apiVersion: paved.dev/v2\n", "apiVersion"},
		{"environmnet: prod\n", "environmnet"},
		{"environment: a\n---\nenvironment: b\n", "p.yaml"},
		{"signers: {key: x}\n", "p.yaml"},
	} {
		_, err := ParsePolicy("p.yaml", []byte(tc.doc))
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("%q: err %v, want a PolicyError", tc.doc, err)
			continue
		}
		if want := "p.yaml: " + tc.field; pe.Field != want && !(tc.field == "p.yaml" && pe.Field == "p.yaml") {
			t.Errorf("%q: field %q, want %q (%v)", tc.doc, pe.Field, want, err)
		}
	}
}

func TestLoadPolicyMissingAndHuge(t *testing.T) {
	if _, err := LoadPolicy(filepath.Join(t.TempDir(), "nope.yaml")); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	os.WriteFile(big, []byte("# "+strings.Repeat("x", maxPolicySize)), 0o644)
	if _, err := LoadPolicy(big); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("huge file: %v", err)
	}
}

func TestMatch(t *testing.T) {
	pats := []string{"https://github.com/acme/ci/.github/workflows/release.yml@*", "https://builder.example/v1"}
	for v, want := range map[string]bool{
		"https://github.com/acme/ci/.github/workflows/release.yml@refs/heads/main": true,
		"https://builder.example/v1":          true,
		"https://builder.example/v1/evil":     false,
		"https://github.com/acme/ci/.github/": false,
		"":                                    false,
	} {
		if got := Match(pats, v); got != want {
			t.Errorf("Match(%q) = %v", v, got)
		}
	}
}

func TestNormalizeRepository(t *testing.T) {
	for in, want := range map[string]string{
		"git+https://github.com/acme/api@refs/heads/main": "https://github.com/acme/api",
		"https://github.com/acme/api.git":                 "https://github.com/acme/api",
		"https://github.com/acme/api/":                    "https://github.com/acme/api",
		"git@github.com:acme/api.git":                     "git@github.com:acme/api",
		"https://user@host.example/acme/api@v1":           "https://user@host.example/acme/api",
		"":                                                "",
	} {
		if got := NormalizeRepository(in); got != want {
			t.Errorf("NormalizeRepository(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("signers:\n  - key: k.pub\nprovenance:\n  builders: [b]\n"))
	f.Add([]byte("scan:\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2099-01-01}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy("p.yaml", b)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// What parses is valid, and its defaults hold.
		if err := p.Validate("p.yaml"); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		if p.Environment == "" || len(p.Scan.Severities) == 0 {
			t.Fatalf("defaults missing: %+v", p)
		}
	})
}

func FuzzNormalizeRepository(f *testing.F) {
	for _, s := range []string{"git+https://github.com/acme/api@refs/heads/main", "git@github.com:acme/api.git", "https://h/a/", "@@", ":", "https://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeRepository(s)
		if again := NormalizeRepository(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		if len(n) > len(s) {
			t.Fatalf("%q grew to %q", s, n)
		}
	})
}

// TestExamplePolicyParses keeps the documented example valid.
func TestExamplePolicyParses(t *testing.T) {
	p, err := LoadPolicy("../../examples/promotion/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Signers) != 2 || len(p.Provenance.Builders) != 2 || p.SBOM.Formats[0] != SBOMSPDX || len(p.Scan.Ignore) != 1 {
		t.Errorf("example policy %+v", p)
	}
}

// TestPolicyIgnoreExpiresThroughTheDay: a policy's expiry means what
// paved.yaml's does (pipelines' TestIgnoreExpiresThroughTheDay): honoured
// through the end of the named day, UTC.
func TestPolicyIgnoreExpiresThroughTheDay(t *testing.T) {
	p, err := ParsePolicy("policy.yaml", []byte("scan:\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2026-12-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := expiry.Parse(p.Scan.Ignore[0].Expires)
	if err != nil {
		t.Fatal(err)
	}
	if last := time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC); !expiry.Honoured(exp, last) {
		t.Errorf("not honoured at %v", last)
	}
	if next := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); expiry.Honoured(exp, next) {
		t.Errorf("still honoured at %v", next)
	}
	if _, err := ParsePolicy("policy.yaml", []byte("scan:\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2026-12-31T10:00:00Z}\n")); err == nil || !strings.Contains(err.Error(), "scan.ignore[0].expires") {
		t.Errorf("an expiry with a time: %v, want an error naming scan.ignore[0].expires", err)
	}
}
