package goservice

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestProvenanceEnv: the provenance keeps the Go settings that change
// builds and GOPROXY without its credentials, and leaves out the patterns
// that name private modules.
func TestProvenanceEnv(t *testing.T) {
	got := provenanceEnv([]string{"GOFLAGS=-trimpath", "GOPROXY=https://u:s3cret@a.example,direct|https://tok@b.example",
		"GOPRIVATE=corp.example/*", "GONOSUMDB=corp.example/*", "GONOPROXY=corp.example/*", "CGO_ENABLED=0"})
	want := []string{"GOFLAGS=-trimpath", "GOPROXY=https://a.example,direct|https://b.example", "CGO_ENABLED=0"}
	if !slices.Equal(got, want) {
		t.Fatalf("provenanceEnv = %q, want %q", got, want)
	}
}

// TestRedactFile: the JUnit report loses URL credentials go printed (go
// hides a password, not a token given as the user name).
func TestRedactFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "junit.xml")
	os.WriteFile(p, []byte(`<failure>go: reading https://ghp_s3cret@proxy.example/m/@v/list: 401</failure>`), 0o644)
	if err := redactFile(p); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != `<failure>go: reading https://proxy.example/m/@v/list: 401</failure>` {
		t.Fatalf("junit.xml = %s", b)
	}
	if err := redactFile(""); err != nil {
		t.Fatal(err)
	}
}
