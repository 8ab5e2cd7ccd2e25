package sbom

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		f                  Format
		predicate, mt, ext string
	}{
		{SPDXJSON, "https://spdx.dev/Document", "application/spdx+json", ".spdx.json"},
		{CycloneDXJSON, "https://cyclonedx.org/bom", "application/vnd.cyclonedx+json", ".cdx.json"},
		{"spdx-tag-value", "", "", ""},
	} {
		if got := tt.f.PredicateType(); got != tt.predicate {
			t.Errorf("%s.PredicateType() = %q, want %q", tt.f, got, tt.predicate)
		}
		if got := tt.f.MediaType(); got != tt.mt {
			t.Errorf("%s.MediaType() = %q, want %q", tt.f, got, tt.mt)
		}
		if got := tt.f.Ext(); got != tt.ext {
			t.Errorf("%s.Ext() = %q, want %q", tt.f, got, tt.ext)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"spdx-json": SPDXJSON, "SPDX": SPDXJSON, " spdx ": SPDXJSON, "spdx-json@2.3": SPDXJSON,
		"cyclonedx-json": CycloneDXJSON, "CycloneDX": CycloneDXJSON, "cdx": CycloneDXJSON,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "spdx-tag-value", "syft-json", "cyclonedx-xml", "json"} {
		if got, err := ParseFormat(in); err == nil {
			t.Errorf("ParseFormat(%q) = %q, want an error", in, got)
		}
	}
}

func TestCheckFormats(t *testing.T) {
	got, err := checkFormats(nil)
	if err != nil || len(got) != 2 || got[0] != SPDXJSON || got[1] != CycloneDXJSON {
		t.Errorf("checkFormats(nil) = %v, %v; want both formats", got, err)
	}
	if _, err := checkFormats([]Format{SPDXJSON, SPDXJSON}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("repeated format: err = %v", err)
	}
	if _, err := checkFormats([]Format{"spdx"}); err == nil {
		t.Error("format given by its short name (not parsed): no error")
	}
}

func TestNamespace(t *testing.T) {
	id := uuid.MustParse("6ba7b810-9dad-51d1-80b4-00c04fd430c8")
	for in, want := range map[string]string{
		"https://anchore.com/syft/image/localhost-5000/demo/svc-a1b2c3d4-e5f6-4711-8899-aabbccddeeff": "https://paved.dev/spdx/image/localhost-5000/demo/svc-" + id.String(),
		"https://anchore.com/syft/dir/example.com/m-a1b2c3d4-e5f6-4711-8899-aabbccddeeff":             "https://paved.dev/spdx/dir/example.com/m-" + id.String(),
		"https://anchore.com/syft/dir/a1b2c3d4-e5f6-4711-8899-aabbccddeeff":                           "https://paved.dev/spdx/dir/" + id.String(),
		"":        "https://paved.dev/spdx/unknown-source-type/" + id.String(),
		"::bad::": "https://paved.dev/spdx/unknown-source-type/" + id.String(),
	} {
		if got := namespace(in, id); got != want {
			t.Errorf("namespace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"linux/amd64":             "linux-amd64",
		"linux/arm/v7":            "linux-arm-v7",
		"windows/amd64:10.0.1":    "windows-amd64-10.0.1",
		"source":                  "source",
		"../../etc/passwd":        "..-..-etc-passwd",
		"linux/amd64\x00/../evil": "linux-amd64--..-evil",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseFormat checks that every accepted name maps to a format with a
// predicate type and that parsing the canonical name gives it back.
func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"spdx-json", "cyclonedx-json", "CDX", "spdx-tag-value", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFormat(s)
		if err != nil {
			if got != "" {
				t.Errorf("ParseFormat(%q) = %q with error %v", s, got, err)
			}
			return
		}
		if got.PredicateType() == "" || got.Ext() == "" {
			t.Errorf("ParseFormat(%q) = %q, not a known format", s, got)
		}
		if again, err := ParseFormat(string(got)); err != nil || again != got {
			t.Errorf("ParseFormat(%q) = %q, %v", got, again, err)
		}
	})
}

// FuzzNamespace checks that whatever namespace Syft wrote, the rewritten
// one is an https URL on paved.dev without a fragment, as SPDX requires.
func FuzzNamespace(f *testing.F) {
	for _, s := range []string{
		"https://anchore.com/syft/image/localhost-5000/demo/svc-a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
		"https://anchore.com/syft/dir/a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
		"https://anchore.com/syft/dir/x#y-a1b2c3d4-e5f6-4711-8899-aabbccddeeff",
		"",
	} {
		f.Add(s)
	}
	id := uuid.MustParse("6ba7b810-9dad-51d1-80b4-00c04fd430c8")
	f.Fuzz(func(t *testing.T, s string) {
		got := namespace(s, id)
		if !strings.HasPrefix(got, "https://paved.dev/spdx/") || !strings.HasSuffix(got, id.String()) {
			t.Errorf("namespace(%q) = %q", s, got)
		}
		if strings.Contains(got, "#") {
			t.Errorf("namespace(%q) = %q has a fragment", s, got)
		}
	})
}
