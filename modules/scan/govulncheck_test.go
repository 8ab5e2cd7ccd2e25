package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGovulncheckErrors(t *testing.T) {
	for _, in := range []string{
		`{"finding": {"osv": "GO-1"}}`,
		`{"finding": {"osv": "GO-1", "trace": [null]}}`,
		`{"finding": {"osv": "GO-1", "trace": [{"module": ""}]}}`,
		`{"finding": {"trace": [{"module": "m"}]}}`,
		`{"osv": `,
		`[]`,
	} {
		if _, err := parseGovulncheck(strings.NewReader(in)); err == nil {
			t.Errorf("parseGovulncheck(%s): no error", in)
		}
	}
	fs, err := parseGovulncheck(strings.NewReader(""))
	if err != nil || len(fs) != 0 {
		t.Errorf("empty output: %v, %v", fs, err)
	}
}

func TestRelLocation(t *testing.T) {
	root := filepath.Join(string(filepath.Separator)+"src", "svc")
	for in, want := range map[string]string{
		filepath.Join(root, "cmd", "main.go") + ":12": "cmd/main.go:12",
		"main.go:3": "main.go:3",
		filepath.Join(string(filepath.Separator)+"elsewhere", "x.go") + ":1": filepath.Join(string(filepath.Separator)+"elsewhere", "x.go") + ":1",
		"": "",
	} {
		if got := relLocation(root, in); got != want {
			t.Errorf("relLocation(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParseGovulncheck reads the output of a real govulncheck run over the
// vulnerable fixture (testdata/govulncheck/vulnerable.json): each
// vulnerability is reported at module, package and, for the called one,
// symbol level.
func TestParseGovulncheck(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "govulncheck", "vulnerable.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseGovulncheck(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []Finding{
		{ID: critGO, Aliases: []string{critCVE}, Package: fixtureModule, Version: "v1.6.0", FixedVersion: "v1.6.1", Severity: "UNKNOWN",
			Title: "Test advisory for NewString in github.com/google/uuid", URL: "https://pkg.go.dev/vuln/GO-2099-0001",
			Scanner: Govulncheck, Target: TargetSource, Location: "main.go:9", Reachable: &yes},
		{ID: highGO, Aliases: []string{highCVE}, Package: fixtureModule, Version: "v1.6.0", Severity: "UNKNOWN",
			Title: "Test advisory for NewSHA1 in github.com/google/uuid", URL: "https://pkg.go.dev/vuln/GO-2099-0002",
			Scanner: Govulncheck, Target: TargetSource, Reachable: &no},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseGovulncheck (-want +got):\n%s", diff)
	}
}

func FuzzParseGovulncheck(f *testing.F) {
	f.Add([]byte(`{"finding": {"osv": "GO-1", "trace": [{"module": "m", "version": "v1", "function": "F", "position": {"filename": "a.go", "line": 2}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := parseGovulncheck(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, x := range fs {
			if x.ID == "" || x.Package == "" || x.Scanner != Govulncheck || x.Target != TargetSource || x.Reachable == nil || x.Severity != "UNKNOWN" {
				t.Fatalf("finding %+v from %q", x, b)
			}
			if x.Location != "" && !*x.Reachable {
				t.Fatalf("unreachable finding with a call site: %+v", x)
			}
		}
		// Parsing is deterministic.
		again, _ := parseGovulncheck(bytes.NewReader(b))
		if len(again) != len(fs) {
			t.Fatalf("two parses of %q differ", b)
		}
	})
}
