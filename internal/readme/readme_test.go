package readme

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/testfs"
	"github.com/pavedhq/paved/modules/build"
)

// snippet returns the Go program under the README's "Use from Go".
func snippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Use from Go\n")
	if !ok {
		t.Fatal(`README.md has no "## Use from Go" section`)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	_, code, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal(`README.md's "Use from Go" has no go code block`)
	}
	code, _, ok = strings.Cut(code, "```")
	if !ok {
		t.Fatal("README.md's go code block does not end")
	}
	return code
}

// TestREADMEProgram builds the README's program inside this module (an
// overlay, so nothing is written to the checkout) and runs it on a copy
// of the example service: it tests, builds and publishes to an OCI
// layout, and prints the reference.
func TestREADMEProgram(t *testing.T) {
	code := snippet(t)
	if !strings.Contains(code, "package main") {
		t.Fatalf("the README's Go example is not a program:\n%s", code)
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(here, "program", "main.go"): src}})
	ov := filepath.Join(tmp, "overlay.json")
	os.WriteFile(ov, overlay, 0o644)
	bin := filepath.Join(tmp, "readme")
	if out, err := exec.Command("go", "build", "-overlay", ov, "-o", bin, "./program").CombinedOutput(); err != nil {
		t.Fatalf("the README's Go example does not compile: %v\n%s\n%s", err, out, code)
	}

	svc := testfs.CopyTree(t, "../../examples/go-service", filepath.Join(tmp, "svc"))
	cmd := exec.Command(bin)
	cmd.Dir = svc
	// GOEXPERIMENT is for building paved, not the service.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOEXPERIMENT=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's Go example failed: %v\n%s", err, stderr.String())
	}
	ref := strings.TrimSpace(stdout.String())
	layout, digest, ok := strings.Cut(strings.TrimPrefix(ref, "oci:"), "@")
	if !ok || !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("printed %q, want oci:DIR@sha256:…", ref)
	}
	if !filepath.IsAbs(layout) {
		layout = filepath.Join(svc, layout)
	}
	idx, err := build.ReadLayout(layout)
	if err != nil {
		t.Fatalf("reading the published layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Digest.String() == digest {
			return
		}
	}
	t.Errorf("layout %s does not hold %s, which the program printed", layout, digest)
}
