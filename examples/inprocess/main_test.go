package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/testfs"
	"github.com/pavedhq/paved/runner"
)

// TestInProcessGoldenPath runs the example on the example service with no
// paved-worker anywhere: PAVED_WORKER names a file that does not exist and
// PATH holds only go and git. The run must test, build, describe, scan and
// publish, as paved run go-service does.
func TestInProcessGoldenPath(t *testing.T) {
	tools := t.TempDir()
	for _, name := range []string{"go", "git"} {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s is needed to run the golden path: %v", name, err)
		}
		if err := os.Symlink(p, filepath.Join(tools, name)); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "vulndb")
	gen := exec.Command("go", "run", "../vulndb", "-o", db)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("writing the demo vulnerability database: %v\n%s", err, out)
	}
	t.Setenv("PAVED_WORKER", filepath.Join(t.TempDir(), "no-paved-worker"))
	t.Setenv("PATH", tools)
	if _, err := exec.LookPath("paved-worker"); err == nil {
		t.Fatal("paved-worker is still on PATH")
	}

	src := filepath.Join(t.TempDir(), "go-service")
	testfs.CopyTree(t, "../go-service", src)
	os.RemoveAll(filepath.Join(src, ".paved"))

	var stdout, stderr bytes.Buffer
	// One platform keeps the test short; the path is the same for two.
	err := run(context.Background(), []string{"-source", src, "-vuln-db", db, "-platform", "linux/amd64"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	ref := lines[len(lines)-1]
	if !strings.HasPrefix(ref, "oci:"+filepath.Join(src, ".paved", "image")+"@sha256:") {
		t.Errorf("last line %q, want the OCI layout under .paved/image", ref)
	}

	b, err := os.ReadFile(filepath.Join(src, ".paved", "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep runner.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Status != runner.Succeeded {
		t.Errorf("report status %q", rep.Status)
	}
	ran := map[string]bool{}
	for _, s := range rep.Steps {
		ran[s.Name] = s.Status == runner.Succeeded
	}
	for _, step := range []string{"test", "build", "sbom", "scan", "publish"} {
		if !ran[step] {
			t.Errorf("step %s did not succeed: %+v", step, rep.Steps)
		}
	}
	if len(rep.SBOM) == 0 || rep.Scan == nil {
		t.Errorf("report has no SBOM or scan: %s", b)
	}
	for _, s := range rep.SBOM {
		if _, err := os.Stat(s.Path); err != nil {
			t.Errorf("exported SBOM: %v", err)
		}
	}
	var exported []string
	filepath.WalkDir(filepath.Join(src, ".paved", "scan"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			exported = append(exported, filepath.Base(p))
		}
		return nil
	})
	if len(exported) != 2 {
		t.Errorf("scan exports %v, want scan.json and scan.sarif", exported)
	}
}
