package hostci

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVetFinding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Finding
	}{
		{"main.go:7:2: printf: bad verb", Finding{Level: Error, Title: "go vet", Message: "printf: bad verb", File: "main.go", Line: 7, Col: 2}},
		{"internal/a/a.go:3: x\n\tmore", Finding{Level: Error, Title: "go vet", Message: "x\n\tmore", File: "internal/a/a.go", Line: 3}},
		{"/abs/a.go:3:1: x", Finding{Level: Error, Title: "go vet", Message: "/abs/a.go:3:1: x"}},
		{"../a.go:3:1: x", Finding{Level: Error, Title: "go vet", Message: "../a.go:3:1: x"}},
		{"pattern ./...: no packages", Finding{Level: Error, Title: "go vet", Message: "pattern ./...: no packages"}},
	} {
		if d := cmp.Diff(tc.want, VetFinding(tc.in)); d != "" {
			t.Errorf("VetFinding(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func TestSARIFPath(t *testing.T) {
	for in, want := range map[string]string{
		"main.go": "main.go", "a/b%20c.go": "a/b c.go", "./a/../b.go": "b.go",
		"/etc/passwd": "", "file:///x.go": "", "../x.go": "", "a/%2E%2E/%2E%2E/x": "", "a%2Fb": "", "a%zz": "", "": "",
	} {
		if got := sarifPath(in); got != want {
			t.Errorf("sarifPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseSARIF(f *testing.F) {
	f.Add([]byte(`{"runs":[{"tool":{"driver":{"name":"govulncheck"}},"results":[{"ruleId":"GO-1","level":"error","message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"main.go"},"region":{"startLine":3}}}]}]}]}`))
	f.Add([]byte(`{"runs":[{"results":[{"locations":[{"physicalLocation":{"artifactLocation":{"uri":"../../x"},"region":{"startLine":-1}}}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := ParseSARIF(b)
		if err != nil {
			return
		}
		for _, f := range fs {
			if f.File == "" || f.Line <= 0 || strings.HasPrefix(f.File, "/") || f.File == ".." || strings.HasPrefix(f.File, "../") {
				t.Fatalf("finding %+v", f)
			}
		}
	})
}

func FuzzVetFinding(f *testing.F) {
	f.Add("main.go:7:2: printf: bad verb")
	f.Add("../x.go:1: y\n\tz")
	f.Fuzz(func(t *testing.T, d string) {
		v := VetFinding(d)
		if v.File != "" && (v.Line <= 0 || strings.HasPrefix(v.File, "/") || strings.HasPrefix(v.File, "../") || v.File == "..") {
			t.Fatalf("finding %+v from %q", v, d)
		}
		if v.File == "" && v.Line != 0 {
			t.Fatalf("line with no file: %+v", v)
		}
	})
}
