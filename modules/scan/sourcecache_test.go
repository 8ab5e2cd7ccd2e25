package scan

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The source cache's tests scan real modules with the real govulncheck
// against test databases; they are not parallel, as they count
// govulncheck's runs in this process.

const (
	uuidGoMod = "module example.com/reusesvc\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n"
	uuidGoSum = "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
		"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"
	mergoGoSum = "dario.cat/mergo v1.0.1 h1:Ra4+bf83h2ztPIQYNP99R6m+Y7KfnARDfID+a+vLl4s=\n" +
		"dario.cat/mergo v1.0.1/go.mod h1:uNxQE+84aUszobStD9th8a29P2fMDhsBdgRYvZOxGmk=\n" +
		"dario.cat/mergo v1.0.2 h1:85+piFYR1tMbRrLcDwR18y4UKJ3aH1Tbzi24VRW1TK8=\n" +
		"dario.cat/mergo v1.0.2/go.mod h1:E/hbnu0NxMFBjpMIE34DRGLWqDy0g5FuKDhCb31ngxA=\n"
	// An advisory on a package of github.com/google/uuid that the
	// fixtures do not import: a module-level finding only.
	otherGO  = "GO-2099-0003"
	otherCVE = "CVE-2099-0003"
	// An advisory on dario.cat/mergo's Merge, fixed in v1.0.2.
	mergoGO  = "GO-2099-0004"
	mergoCVE = "CVE-2099-0004"
)

var unimported = goAdvisory{ID: otherGO, Alias: otherCVE, Module: fixtureModule, Package: fixtureModule + "/internal/legacy", Symbol: "Parse", Fixed: "1.6.1"}

// writeModule writes the files of a module into dir.
func writeModule(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// scanned scans the source in dir with the cache in cache ("" for none)
// and returns the report, its JSON and SARIF, and whether govulncheck
// ran.
func scanned(t *testing.T, dir, db, cache string) (rep *Report, js, sarif []byte, ran bool) {
	t.Helper()
	before := govulncheckRuns.Load()
	rep, err := Run(context.Background(), Input{Source: dir}, Options{DBDir: db, LayerCacheDir: cache, Gate: Gate{Severities: []string{"CRITICAL"}, AnyFix: true}})
	var ge *GateError
	if err != nil && !errors.As(err, &ge) {
		t.Fatalf("Run: %v", err)
	}
	var j, s bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteSARIF(&s); err != nil {
		t.Fatal(err)
	}
	ran = govulncheckRuns.Load() > before
	if ran == slices.Contains(rep.Reused, Govulncheck) {
		t.Fatalf("govulncheck ran: %v, but the report says reused: %q", ran, rep.Reused)
	}
	return rep, j.Bytes(), s.Bytes(), ran
}

// sameAsUncached checks that a report equals, byte for byte as JSON and
// SARIF, that of a run with an empty cache over the same source.
func sameAsUncached(t *testing.T, what, dir, db string, js, sarif []byte) {
	t.Helper()
	_, wantJS, wantSARIF, _ := scanned(t, dir, db, t.TempDir())
	if !bytes.Equal(js, wantJS) {
		t.Errorf("%s: JSON differs from an uncached run's:\n%s\nwant:\n%s", what, js, wantJS)
	}
	if !bytes.Equal(sarif, wantSARIF) {
		t.Errorf("%s: SARIF differs from an uncached run's", what)
	}
}

func findingIDs(rep *Report) []string {
	var ids []string
	for _, f := range rep.Findings {
		r := "not called"
		if f.Reachable != nil && *f.Reachable {
			r = "called at " + f.Location
		}
		ids = append(ids, f.ID+" "+r)
	}
	return ids
}

// TestSourceCacheReuse: a module whose vulnerable module's vulnerable
// package it does not import keeps govulncheck's result (a module-level
// finding) across edits that import nothing new; a new import, a new
// database or a torn entry runs govulncheck again.
func TestSourceCacheReuse(t *testing.T) {
	db := t.TempDir()
	writeTrivyDB(t, db, time.Now().UTC().Truncate(time.Second))
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{unimported})
	src, cache := t.TempDir(), t.TempDir()
	writeModule(t, src, map[string]string{"go.mod": uuidGoMod, "go.sum": uuidGoSum, "main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println("id", uuid.New()) }
`})
	rep, js, sarif, ran := scanned(t, src, db, cache)
	if !ran {
		t.Fatal("first run: govulncheck did not run")
	}
	if got, want := findingIDs(rep), []string{otherGO + " not called"}; !slices.Equal(got, want) {
		t.Fatalf("first run: findings %q, want %q", got, want)
	}
	sameAsUncached(t, "first run", src, db, js, sarif)

	// A one-line edit.
	main := filepath.Join(src, "main.go")
	b, _ := os.ReadFile(main)
	writeModule(t, src, map[string]string{"main.go": strings.Replace(string(b), `"id"`, `"uuid:"`, 1)})
	rep, js, sarif, ran = scanned(t, src, db, cache)
	if ran {
		t.Fatalf("after a one-line edit: govulncheck ran again")
	}
	if got, want := findingIDs(rep), []string{otherGO + " not called"}; !slices.Equal(got, want) {
		t.Errorf("after a one-line edit: findings %q, want %q", got, want)
	}
	if rep.Findings[0].Severity != "UNKNOWN" || rep.Findings[0].FixedVersion != "v1.6.1" {
		t.Errorf("reused finding %+v", rep.Findings[0])
	}
	sameAsUncached(t, "reused", src, db, js, sarif)

	// A new import changes the closure.
	writeModule(t, src, map[string]string{"main.go": strings.Replace(string(b), `"fmt"`, `"fmt"
	_ "net/url"`, 1)})
	if _, _, _, ran = scanned(t, src, db, cache); !ran {
		t.Errorf("after a new import: govulncheck did not run")
	}
	if _, _, _, ran = scanned(t, src, db, cache); ran {
		t.Errorf("the new import scanned twice: govulncheck ran again")
	}

	// A new database (one more advisory, with the same modification
	// time: the entries, not the time, decide).
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{unimported,
		{ID: "GO-2099-0005", Alias: "CVE-2099-0005", Module: "example.com/elsewhere", Package: "example.com/elsewhere", Symbol: "F"}})
	if _, _, _, ran = scanned(t, src, db, cache); !ran {
		t.Errorf("after a database change: govulncheck did not run")
	}

	// A torn or tampered entry is run again, not trusted.
	ents, err := filepath.Glob(filepath.Join(cache, sourceCacheDir, "*.json"))
	if err != nil || len(ents) != 3 {
		t.Fatalf("cache entries %q, %v; want 3", ents, err)
	}
	for _, e := range ents {
		if err := os.WriteFile(e, []byte(`{"config": {"go_version": "`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep, js, sarif, ran = scanned(t, src, db, cache)
	if !ran || len(rep.Warnings) != 0 {
		t.Errorf("over a torn entry: govulncheck ran %v, warnings %q", ran, rep.Warnings)
	}
	sameAsUncached(t, "over a torn entry", src, db, js, sarif)

	// Without a cache directory nothing is kept.
	if _, _, _, ran = scanned(t, src, db, ""); !ran {
		t.Errorf("no cache: govulncheck did not run")
	}
}

// TestSourceCacheImportedVulnerablePackage: a module that imports a
// vulnerable package without calling the vulnerable symbol is scanned
// again after every edit, so the edit that adds the call is found.
func TestSourceCacheImportedVulnerablePackage(t *testing.T) {
	db := airGapped(t)
	src, cache := t.TempDir(), t.TempDir()
	writeModule(t, src, map[string]string{"go.mod": uuidGoMod, "go.sum": uuidGoSum, "main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.New()) }
`})
	rep, _, _, ran := scanned(t, src, db, cache)
	if !ran {
		t.Fatal("first run: govulncheck did not run")
	}
	if got, want := findingIDs(rep), []string{critGO + " not called", highGO + " not called"}; !slices.Equal(got, want) {
		t.Fatalf("first run: findings %q, want %q", got, want)
	}
	if ents, _ := filepath.Glob(filepath.Join(cache, sourceCacheDir, "*.json")); len(ents) != 0 {
		t.Errorf("a result with an imported vulnerable package was kept: %q", ents)
	}

	// The one-line edit that calls the vulnerable symbol.
	writeModule(t, src, map[string]string{"main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.NewString()) }
`})
	rep, js, sarif, ran := scanned(t, src, db, cache)
	if !ran {
		t.Fatal("after adding the call: govulncheck did not run")
	}
	if got, want := findingIDs(rep), []string{critGO + " called at main.go:9", highGO + " not called"}; !slices.Equal(got, want) {
		t.Errorf("after adding the call: findings %q, want %q", got, want)
	}
	if rep.Gate.Passed {
		t.Errorf("after adding the call: the gate passed")
	}
	sameAsUncached(t, "after adding the call", src, db, js, sarif)
}

// TestSourceCacheModuleVersion: the version of a module is part of the
// key. At v1.0.2 mergo's (invented) advisory does not apply and the
// result is kept; at v1.0.1 the same code calls the vulnerable symbol, and
// reusing the result would hide it.
func TestSourceCacheModuleVersion(t *testing.T) {
	db := t.TempDir()
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{
		{ID: mergoGO, Alias: mergoCVE, Module: "dario.cat/mergo", Package: "dario.cat/mergo", Symbol: "Merge", Fixed: "1.0.2"}})
	fetchModules(t, "dario.cat/mergo@v1.0.2", "dario.cat/mergo@v1.0.1")
	src, cache := t.TempDir(), t.TempDir()
	gomod := "module example.com/mergesvc\n\ngo 1.22\n\nrequire dario.cat/mergo v1.0.2\n"
	writeModule(t, src, map[string]string{"go.mod": gomod, "go.sum": mergoGoSum, "main.go": `package main

import "dario.cat/mergo"

type conf struct{ Name string }

func main() {
	var c conf
	_ = mergo.Merge(&c, conf{Name: "x"})
}
`})
	rep, _, _, ran := scanned(t, src, db, cache)
	if !ran || len(rep.Findings) != 0 {
		t.Fatalf("at v1.0.2: govulncheck ran %v, findings %q; want a run and none", ran, findingIDs(rep))
	}
	if _, _, _, ran = scanned(t, src, db, cache); ran {
		t.Fatalf("at v1.0.2 again: govulncheck ran, want the result reused")
	}
	writeModule(t, src, map[string]string{"go.mod": strings.Replace(gomod, "v1.0.2", "v1.0.1", 1)})
	rep, js, sarif, ran := scanned(t, src, db, cache)
	if !ran {
		t.Fatal("at v1.0.1: govulncheck did not run")
	}
	if got, want := findingIDs(rep), []string{mergoGO + " called at main.go:9"}; !slices.Equal(got, want) {
		t.Errorf("at v1.0.1: findings %q, want %q", got, want)
	}
	sameAsUncached(t, "at v1.0.1", src, db, js, sarif)
}

// TestSourceCacheNoKey: when the key cannot be computed (here the
// database's index lacks vulns.json, which govulncheck does not read),
// govulncheck runs every time.
func TestSourceCacheNoKey(t *testing.T) {
	db := t.TempDir()
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{unimported})
	if err := os.Remove(filepath.Join(db, GoVulnDir, "index", "vulns.json")); err != nil {
		t.Fatal(err)
	}
	src, cache := t.TempDir(), t.TempDir()
	writeModule(t, src, map[string]string{"go.mod": uuidGoMod, "go.sum": uuidGoSum,
		"main.go": "package main\n\nimport \"github.com/google/uuid\"\n\nfunc main() { println(uuid.New().String()) }\n"})
	for i := range 2 {
		rep, _, _, ran := scanned(t, src, db, cache)
		if !ran {
			t.Errorf("run %d: govulncheck did not run", i+1)
		}
		if got, want := findingIDs(rep), []string{otherGO + " not called"}; !slices.Equal(got, want) {
			t.Errorf("run %d: findings %q, want %q", i+1, got, want)
		}
	}
}

func FuzzSourceReusable(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "govulncheck", "vulnerable.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"config": {"go_version": "go1", "scan_level": "symbol", "scan_mode": "source"}}{"finding": {"osv": "GO-1", "trace": [{"module": "m", "version": "v1"}]}}`))
	f.Add([]byte(`{"config": {"go_version": "go1", "scan_level": "symbol", "scan_mode": "source"}}{"finding": {"osv": "GO-1", "trace": [{"module": "m", "package": "m/p"}]}}`))
	f.Fuzz(func(t *testing.T, out []byte) {
		k := &sourceKey{goVersion: "go1"}
		if !k.reusable(out) {
			return
		}
		// What is kept parses, and says nothing is called.
		fs, err := parseGovulncheck(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("reusable output does not parse: %v\n%q", err, out)
		}
		for _, x := range fs {
			if *x.Reachable {
				t.Fatalf("reusable output with a called symbol: %q", out)
			}
		}
	})
}
