package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/runner"
)

// TestScanCallGraphOnlyWhenNeeded: the example imports no vulnerable
// package under the demo database, so the scan step says govulncheck
// needed no call graph, and after a one-line change, with the step cache
// warm, writes the same scan.json and scan.sarif, and the same SBOMs, as
// a run with an empty cache. Under a database with an advisory on a package it imports, the
// call graph is built.
func TestScanCallGraphOnlyWhenNeeded(t *testing.T) {
	src := copyExample(t)
	db := vulnDB(t, false)
	cache := t.TempDir()
	// The copy has no commit to date the source SBOM by: SOURCE_DATE_EPOCH
	// does, as a checkout's commit time would; without either the
	// document says when it was written.
	offline := []string{"HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "SOURCE_DATE_EPOCH=1764547200"}
	const noCallGraph = "no call graph needed"
	run := func(cache string) (scan runner.StepReport, js, sarif []byte, sboms map[string][]byte) {
		t.Helper()
		r := paved(t, offline, "run", "go-service", "--source", src, "--vuln-db", db, "--cache-dir", cache, "--platform", "linux/amd64")
		if r.code != 0 {
			t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
		}
		rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
		for _, s := range rep.Steps {
			if s.Name == "scan" {
				scan = s
			}
		}
		if scan.Status != runner.Succeeded || scan.Cached {
			t.Fatalf("scan step %+v, want it run", scan)
		}
		var err error
		if js, err = os.ReadFile(filepath.Join(src, ".paved", "scan", "scan.json")); err != nil {
			t.Fatal(err)
		}
		if sarif, err = os.ReadFile(filepath.Join(src, ".paved", "scan", "scan.sarif")); err != nil {
			t.Fatal(err)
		}
		docs, err := filepath.Glob(filepath.Join(src, ".paved", "sbom", "*.json"))
		if err != nil || len(docs) != 4 { // SPDX and CycloneDX, of linux/amd64 and of the source
			t.Fatalf("SBOMs %v, %v; want 4", docs, err)
		}
		sboms = map[string][]byte{}
		for _, d := range docs {
			if sboms[filepath.Base(d)], err = os.ReadFile(d); err != nil {
				t.Fatal(err)
			}
		}
		return scan, js, sarif, sboms
	}
	edit := func(from, to string) {
		t.Helper()
		p := filepath.Join(src, "main.go")
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(from)) {
			t.Fatalf("main.go: %v, or no %q in it", err, from)
		}
		if err := os.WriteFile(p, bytes.Replace(b, []byte(from), []byte(to), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	if scan, _, _, _ := run(cache); !strings.Contains(scan.Summary, noCallGraph) {
		t.Errorf("first run: scan summary %q, want %q", scan.Summary, noCallGraph)
	}
	edit(`"go-service:"`, `"go-service failed:"`)
	scan, js, sarif, sboms := run(cache)
	if !strings.Contains(scan.Summary, noCallGraph) {
		t.Errorf("after a one-line change: scan summary %q, want %q", scan.Summary, noCallGraph)
	}
	_, wantJS, wantSARIF, wantSBOMs := run(t.TempDir())
	if !bytes.Equal(js, wantJS) {
		t.Errorf("scan.json after a one-line change differs from an empty cache's:\n%s\nwant:\n%s", js, wantJS)
	}
	if !bytes.Equal(sarif, wantSARIF) {
		t.Errorf("scan.sarif after a one-line change differs from an empty cache's")
	}
	for name, want := range wantSBOMs {
		if !bytes.Equal(sboms[name], want) {
			t.Errorf("SBOM %s after a one-line change differs from an empty cache's", name)
		}
	}

	// The example calls uuid.NewString, which this database's advisory
	// names: the gate fails on the called symbol.
	r := paved(t, offline, "run", "go-service", "--source", src, "--vuln-db", vulnDB(t, true), "--no-cache", "--platform", "linux/amd64")
	if r.code == 0 {
		t.Fatal("paved run passed the gate over a called vulnerable symbol")
	}
	for _, s := range readReport(t, filepath.Join(src, ".paved", "report.json")).Steps {
		if s.Name == "scan" && strings.Contains(s.Summary, noCallGraph) {
			t.Errorf("vulnerable package imported: scan summary %q", s.Summary)
		}
	}
	scanJSON, err := os.ReadFile(filepath.Join(src, ".paved", "scan", "scan.json"))
	if err != nil || !bytes.Contains(scanJSON, []byte(`"reachable": true`)) {
		t.Errorf("scan.json: %v; want the called symbol reported reachable:\n%s", err, scanJSON)
	}
}
