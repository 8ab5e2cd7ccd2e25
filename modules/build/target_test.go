package build

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    string // Target.String()
		layout  bool
		wantErr string
	}{
		{in: "oci:out", want: "oci:out", layout: true},
		{in: "oci:./a/../b/", want: "oci:b", layout: true},
		{in: "localhost:5000/team/svc", want: "localhost:5000/team/svc"},
		{in: "registry.example.com/svc", want: "registry.example.com/svc"},
		{in: "repo:tag", wantErr: "names a tag"},
		{in: "localhost:5000/team/svc:v1", wantErr: `give a repository such as "localhost:5000/team/svc"`},
		{in: "localhost:5000/svc@sha256:" + strings.Repeat("a", 64), wantErr: "names a digest"},
		{in: "oci:", wantErr: "missing layout directory"},
		{in: "oci:dir@sha256:abc", wantErr: "without @digest"},
		{in: "Upper/Case", wantErr: "Upper/Case"},
		{in: "", wantErr: `target ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTarget(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("String() = %q, want %q", got.String(), tt.want)
			}
			if _, ok := got.(LayoutTarget); ok != tt.layout {
				t.Errorf("ParseTarget(%q) = %T", tt.in, got)
			}
		})
	}
}

func TestParseBase(t *testing.T) {
	tests := []struct {
		in       string
		wantName string
		wantErr  string
	}{
		{in: "", wantName: MinimalName},
		{in: "paved", wantName: MinimalName},
		{in: "oci:base", wantName: "oci:base"},
		{in: "oci:base@sha256:" + strings.Repeat("b", 64), wantName: "oci:base@sha256:" + strings.Repeat("b", 64)},
		{in: "localhost:5000/distroless/static:nonroot", wantName: "localhost:5000/distroless/static:nonroot"},
		{in: "oci:", wantErr: "missing layout directory"},
		{in: "oci:base@sha256:short", wantErr: "oci:base@sha256:short"},
		{in: "Not A Ref", wantErr: "Not A Ref"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBase(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseBase(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantName, got.Name()); diff != "" {
				t.Errorf("Name() (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseTarget checks ParseTarget never panics, that whatever it accepts
// reads back as the same target, and that a registry target holds no tag or
// digest.
func FuzzParseTarget(f *testing.F) {
	f.Add("oci:out")
	f.Add("localhost:5000/team/svc")
	f.Add("repo:tag")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(got.String())
		if err != nil {
			t.Fatalf("ParseTarget(%q) = %s, which does not parse: %v", s, got, err)
		}
		if again.String() != got.String() {
			t.Fatalf("ParseTarget(%q) = %s, reparsed as %s", s, got, again)
		}
		if rt, ok := got.(RegistryTarget); ok {
			if strings.Contains(rt.Repo.RepositoryStr(), ":") || strings.Contains(s, "@") {
				t.Fatalf("ParseTarget(%q) accepted a tag or digest: %s", s, got)
			}
		}
	})
}

// FuzzParseBase checks ParseBase never panics and that registry bases name
// a reference that parses again.
func FuzzParseBase(f *testing.F) {
	f.Add("paved")
	f.Add("oci:dir@sha256:" + strings.Repeat("0", 64))
	f.Add("localhost:5000/base:1")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBase(s)
		if err != nil {
			return
		}
		if b.Name() == "" {
			t.Fatalf("ParseBase(%q) has no name", s)
		}
		if rb, ok := b.(*remoteBase); ok {
			if _, err := name.ParseReference(rb.Name()); err != nil {
				t.Fatalf("ParseBase(%q) names %q, which does not parse: %v", s, rb.Name(), err)
			}
		}
		if lb, ok := b.(*layoutBase); ok && lb.digest != nil {
			if _, err := v1.NewHash(lb.digest.String()); err != nil {
				t.Fatalf("ParseBase(%q) kept an invalid digest: %v", s, err)
			}
		}
	})
}
