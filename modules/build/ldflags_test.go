package build

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderLdflags(t *testing.T) {
	d := NewLdflagsData("v1.2.3", "0123456789abcdef", created, []string{"A=1", "TOKEN=hunter2", "EMPTY="})
	got, err := RenderLdflags([]string{"-X main.version={{.Version}}", "-X main.c={{.Commit}} -X main.s={{.ShortCommit}}", "-X main.d={{.Date}} -X main.a={{.Env.A}}{{.Env.EMPTY}}"}, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-X main.version=v1.2.3", "-X main.c=0123456789abcdef -X main.s=0123456", "-X main.d=2024-05-06T07:08:09Z -X main.a=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ tmpl, wantErr string }{
		{"-X main.v={{.Version", "ldflags[1]: line 1: unclosed action"},
		{"-X main.v={{.Tag}}", `ldflags[1]: at <.Tag>: can't evaluate field Tag`},
		{"-X main.v={{.Env.NOPE}}", `ldflags[1]: at <.Env.NOPE>: map has no entry for key "NOPE" (the environment lacks that variable)`},
		{"-X main.v={{template \"x\"}}", `ldflags[1]`},
	} {
		_, err := RenderLdflags([]string{"-s", tt.tmpl}, d)
		if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want one starting %q", tt.tmpl, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error quotes an environment value: %v", tt.tmpl, err)
		}
	}
	if err := ParseLdflags([]string{"ok {{.Version}}", "{{if}}"}); err == nil || !strings.HasPrefix(err.Error(), "ldflags[1]: ") {
		t.Errorf("ParseLdflags: err = %v, want one naming ldflags[1]", err)
	}
}

// Rendering never panics, and its errors name the field and never quote
// an environment value.
func FuzzRenderLdflags(f *testing.F) {
	f.Fuzz(func(t *testing.T, tmpl string) {
		d := NewLdflagsData("1.0.0", "abcdef0123", created, []string{"SECRET=s3cr3t-v4lue"})
		if perr := ParseLdflags([]string{tmpl}); perr != nil && !strings.HasPrefix(perr.Error(), "ldflags[0]: ") {
			t.Fatalf("parse error does not name the field: %v", perr)
		}
		_, err := RenderLdflags([]string{tmpl}, d)
		if err == nil {
			return
		}
		if !strings.HasPrefix(err.Error(), "ldflags[0]: ") {
			t.Fatalf("error does not name the field: %v", err)
		}
		if strings.Contains(err.Error(), "s3cr3t-v4lue") && !strings.Contains(tmpl, "s3cr3t-v4lue") {
			t.Fatalf("error quotes the environment: %v", err)
		}
	})
}
