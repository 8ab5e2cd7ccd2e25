package sbom

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestQuietAndTidy checks that a library call prints nothing (Syft and
// Stereoscope log and publish progress only when a program asks) and
// leaves no temporary files behind.
func TestQuietAndTidy(t *testing.T) {
	img := exampleImage(t, amd64)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	stdout, stderr := os.Stdout, os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout, os.Stderr = w, w
	printed := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		printed <- string(b)
	}()
	_, imgErr := Image(context.Background(), img, exampleRef, t.TempDir())
	_, srcErr := Source(context.Background(), exampleDir, t.TempDir())
	os.Stdout, os.Stderr = stdout, stderr
	w.Close()
	out := <-printed

	if imgErr != nil || srcErr != nil {
		t.Fatalf("Image: %v; Source: %v", imgErr, srcErr)
	}
	if out != "" {
		t.Errorf("printed:\n%s", out)
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

// TestSyftVersion keeps the version named in documents in step with the
// Syft that go.mod requires.
func TestSyftVersion(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/anchore/syft").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != syftVersion {
		t.Errorf("go.mod requires syft %s; syftVersion is %s", got, syftVersion)
	}
}
