package commands

import (
	"strings"
	"testing"
)

// Each verb takes one published image by digest; anything else is bad
// usage (exit 2) naming the argument, before any step runs.
func TestVerbsTakeAReferenceByDigest(t *testing.T) {
	for _, verb := range []string{"sbom", "scan", "sign", "attest"} {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{verb}, "takes 1 argument"},
			{[]string{verb, "localhost:5000/a/b:latest"}, `REF "localhost:5000/a/b:latest": want a published image by digest`},
			{[]string{verb, "not a ref"}, `REF "not a ref"`},
			{[]string{verb, "localhost:5000/a/b@sha256:00", "--nope"}, "--nope"},
		} {
			t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
				_, _, err := pavedCmd(t, tc.args...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want exit 2 naming %q", err, ExitCode(err), tc.want)
				}
			})
		}
	}
}

// The verbs take the flags of the golden path's step they run.
func TestVerbFlags(t *testing.T) {
	root := New("v", nil, nil)
	want := map[string][]string{
		"sbom":   {"source", "cache-dir", "no-cache", "cache-max-size", "report", "json"},
		"scan":   {"source", "vuln-db", "scan-required", "cache-dir", "report", "json"},
		"sign":   {"key", "keyless", "fulcio-url", "rekor-url", "trusted-root", "cache-dir", "report", "json"},
		"attest": {"source", "key", "keyless", "fulcio-url", "rekor-url", "trusted-root", "cache-dir", "report", "json"},
	}
	for verb, flags := range want {
		c, _, err := root.Find([]string{verb})
		if err != nil || c.Name() != verb {
			t.Fatalf("no %s command: %v", verb, err)
		}
		for _, f := range flags {
			if c.Flags().Lookup(f) == nil {
				t.Errorf("paved %s has no --%s", verb, f)
			}
		}
	}
}
