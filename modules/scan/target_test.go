package scan

import (
	"strings"
	"testing"
)

func TestSplitSourceRPM(t *testing.T) {
	for _, tc := range []struct{ in, name, ver, rel string }{
		{"openssl-3.0.7-24.el9.src.rpm", "openssl", "3.0.7", "24.el9"},
		{"python3-pip-21.3.1-1.amzn2023.0.8.src.rpm", "python3-pip", "21.3.1", "1.amzn2023.0.8"},
		{"foo-1.0-1.i386.rpm", "foo", "1.0", "1"},
	} {
		n, v, r, ok := splitSourceRPM(tc.in)
		if !ok || n != tc.name || v != tc.ver || r != tc.rel {
			t.Errorf("splitSourceRPM(%q) = %q %q %q %v, want %q %q %q", tc.in, n, v, r, ok, tc.name, tc.ver, tc.rel)
		}
	}
	for _, in := range []string{"", "openssl", "openssl.src.rpm", "-1.0-1.src.rpm", "a-b.src.rpm"} {
		if n, v, r, ok := splitSourceRPM(in); ok {
			t.Errorf("splitSourceRPM(%q) = %q %q %q, want not ok", in, n, v, r)
		}
	}
}

// FuzzSplitSourceRPM: whatever splits is a name, version and release that
// the file name spells out in that order, none of them empty of a name.
func FuzzSplitSourceRPM(f *testing.F) {
	f.Add("openssl-3.0.7-24.el9.src.rpm")
	f.Add("a-b-c.d")
	f.Fuzz(func(t *testing.T, in string) {
		n, v, r, ok := splitSourceRPM(in)
		if !ok {
			return
		}
		if n == "" || strings.Contains(v, "-") || strings.Contains(r, "-") {
			t.Fatalf("splitSourceRPM(%q) = %q %q %q", in, n, v, r)
		}
		if !strings.HasPrefix(in, n+"-"+v+"-"+r+".") {
			t.Fatalf("splitSourceRPM(%q) = %q %q %q: not the name's prefix", in, n, v, r)
		}
	})
}
