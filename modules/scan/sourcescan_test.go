package scan

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The source scan's tests scan real modules with the real govulncheck
// against test databases; they are not parallel, as they count
// govulncheck's symbol-level runs in this process.

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

// scanned scans the source in dir against the databases in db and returns
// the report and whether govulncheck built its call graph; it checks that
// the findings are those of a symbol-level scan of the same source.
func scanned(t *testing.T, dir, db string) (rep *Report, callGraph bool) {
	t.Helper()
	before := callGraphRuns.Load()
	rep, err := Run(context.Background(), Input{Source: dir}, Options{DBDir: db, Gate: Gate{Severities: []string{"CRITICAL"}, AnyFix: true}})
	var ge *GateError
	if err != nil && !errors.As(err, &ge) {
		t.Fatalf("Run: %v", err)
	}
	callGraph = callGraphRuns.Load() > before
	if callGraph != rep.CallGraph {
		t.Fatalf("govulncheck built its call graph: %v, but the report says %v", callGraph, rep.CallGraph)
	}

	// The findings, with or without the call graph, are those of
	// govulncheck at the symbol level.
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := execGovulncheck(context.Background(), abs, govulnDB{dir: filepath.Join(db, GoVulnDir), offline: true}, "symbol")
	if err != nil {
		t.Fatal(err)
	}
	want, err := findingsOf(abs, out)
	if err != nil {
		t.Fatal(err)
	}
	// Severity and title may come from Trivy's database: not compared.
	var got []Finding
	for _, f := range rep.Findings {
		if f.Scanner == Govulncheck {
			f.Severity, f.Title = "", ""
			got = append(got, f)
		}
	}
	for i := range want {
		want[i].Severity, want[i].Title = "", ""
	}
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("findings %s, want those of a symbol-level scan: %s", findingIDsOf(got), findingIDsOf(want))
	}
	return rep, callGraph
}

func findingIDs(rep *Report) []string { return findingIDsOf(rep.Findings) }

func findingIDsOf(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		r := "not called"
		if f.Reachable != nil && *f.Reachable {
			r = "called at " + f.Location
		}
		ids = append(ids, f.ID+" "+r)
	}
	return ids
}

// TestSourceScanModuleLevel: a module that requires a vulnerable module
// without importing its vulnerable package gets the module-level finding
// from the package-level pass alone, also after edits.
func TestSourceScanModuleLevel(t *testing.T) {
	db := t.TempDir()
	writeTrivyDB(t, db, time.Now().UTC().Truncate(time.Second))
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{unimported})
	src := t.TempDir()
	writeModule(t, src, map[string]string{"go.mod": uuidGoMod, "go.sum": uuidGoSum, "main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println("id", uuid.New()) }
`})
	rep, callGraph := scanned(t, src, db)
	if callGraph {
		t.Error("govulncheck built its call graph, with no vulnerable package imported")
	}
	if got, want := findingIDs(rep), []string{otherGO + " not called"}; !slices.Equal(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if rep.Findings[0].Severity != "UNKNOWN" || rep.Findings[0].FixedVersion != "v1.6.1" || rep.Findings[0].Package != fixtureModule {
		t.Errorf("finding %+v", rep.Findings[0])
	}

	// An edit that imports one more package of the standard library.
	writeModule(t, src, map[string]string{"main.go": `package main

import (
	"fmt"
	"net/url"

	"github.com/google/uuid"
)

func main() { fmt.Println(url.PathEscape("id"), uuid.New()) }
`})
	if rep, callGraph = scanned(t, src, db); callGraph || !slices.Equal(findingIDs(rep), []string{otherGO + " not called"}) {
		t.Errorf("after an edit: call graph %v, findings %q", callGraph, findingIDs(rep))
	}
}

// TestSourceScanImportedVulnerablePackage: a module that imports a
// vulnerable package gets the call graph, which tells a called symbol from
// one that is not.
func TestSourceScanImportedVulnerablePackage(t *testing.T) {
	db := airGapped(t)
	src := t.TempDir()
	writeModule(t, src, map[string]string{"go.mod": uuidGoMod, "go.sum": uuidGoSum, "main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.New()) }
`})
	rep, callGraph := scanned(t, src, db)
	if !callGraph {
		t.Error("not called: govulncheck built no call graph")
	}
	if got, want := findingIDs(rep), []string{critGO + " not called", highGO + " not called"}; !slices.Equal(got, want) {
		t.Fatalf("not called: findings %q, want %q", got, want)
	}

	// The one-line edit that calls the vulnerable symbol.
	writeModule(t, src, map[string]string{"main.go": `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.NewString()) }
`})
	rep, callGraph = scanned(t, src, db)
	if !callGraph {
		t.Error("called: govulncheck built no call graph")
	}
	if got, want := findingIDs(rep), []string{critGO + " called at main.go:9", highGO + " not called"}; !slices.Equal(got, want) {
		t.Errorf("called: findings %q, want %q", got, want)
	}
	if rep.Gate.Passed {
		t.Errorf("called: the gate passed")
	}
}

// TestSourceScanModuleVersion: at v1.0.2 mergo's (invented) advisory does
// not apply and the package-level pass says so; at v1.0.1 the same code
// calls the vulnerable symbol, which only the call graph shows.
func TestSourceScanModuleVersion(t *testing.T) {
	db := t.TempDir()
	writeGoVulnDBOf(t, db, "2025-01-02T03:04:05Z", []goAdvisory{
		{ID: mergoGO, Alias: mergoCVE, Module: "dario.cat/mergo", Package: "dario.cat/mergo", Symbol: "Merge", Fixed: "1.0.2"}})
	fetchModules(t, "dario.cat/mergo@v1.0.2", "dario.cat/mergo@v1.0.1")
	src := t.TempDir()
	gomod := "module example.com/mergesvc\n\ngo 1.22\n\nrequire dario.cat/mergo v1.0.2\n"
	writeModule(t, src, map[string]string{"go.mod": gomod, "go.sum": mergoGoSum, "main.go": `package main

import "dario.cat/mergo"

type conf struct{ Name string }

func main() {
	var c conf
	_ = mergo.Merge(&c, conf{Name: "x"})
}
`})
	if rep, callGraph := scanned(t, src, db); callGraph || len(rep.Findings) != 0 {
		t.Fatalf("at v1.0.2: call graph %v, findings %q; want neither", callGraph, findingIDs(rep))
	}
	writeModule(t, src, map[string]string{"go.mod": strings.Replace(gomod, "v1.0.2", "v1.0.1", 1)})
	rep, callGraph := scanned(t, src, db)
	if !callGraph {
		t.Error("at v1.0.1: govulncheck built no call graph")
	}
	if got, want := findingIDs(rep), []string{mergoGO + " called at main.go:9"}; !slices.Equal(got, want) {
		t.Errorf("at v1.0.1: findings %q, want %q", got, want)
	}
}

// FuzzImportsVulnerable: output taken as showing no vulnerable package
// imported parses, and says nothing is called.
func FuzzImportsVulnerable(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "govulncheck", "vulnerable.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"config": {"scan_level": "package", "scan_mode": "source"}}{"finding": {"osv": "GO-1", "trace": [{"module": "m", "version": "v1"}]}}`))
	f.Add([]byte(`{"config": {"scan_level": "package", "scan_mode": "source"}}{"finding": {"osv": "GO-1", "trace": [{"module": "m", "package": "m/p"}]}}`))
	f.Fuzz(func(t *testing.T, out []byte) {
		if importsVulnerable(out) {
			return
		}
		fs, err := parseGovulncheck(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("output taken as package-level does not parse: %v\n%q", err, out)
		}
		for _, x := range fs {
			if *x.Reachable {
				t.Fatalf("output taken as package-level with a called symbol: %q", out)
			}
		}
	})
}
