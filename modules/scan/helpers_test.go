package scan

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	dbtypes "github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/modules/build"
)

// The vulnerabilities below are invented for these tests (the year 2099
// keeps them from colliding with real ones); they are written into test
// databases against github.com/google/uuid v1.6.0, a module the fixture
// service builds with offline from the module cache.
const (
	fixtureModule = "github.com/google/uuid"
	critCVE       = "CVE-2099-0001" // CRITICAL, fixed in 1.6.1, in uuid.NewString (which the fixture calls)
	critGO        = "GO-2099-0001"
	highCVE       = "CVE-2099-0002" // HIGH, no fix, in uuid.NewSHA1 (which the fixture does not call)
	highGO        = "GO-2099-0002"
)

// ghsaGoBucket is where trivy-db's GitHub Security Advisory source keeps Go
// advisories; Trivy's Go binary detector reads every "go::" bucket.
const ghsaGoBucket = "go::GitHub Security Advisory Go"

// trafficTrap counts connections to the proxy every HTTP client in this
// test binary is pointed at: an air-gapped scan must make none.
var trafficTrap atomic.Int64

func TestMain(m *testing.M) {
	// Trivy keeps a temporary directory per process; keep it, and the
	// fixtures, in one place that goes when the tests end.
	tmp, err := os.MkdirTemp("", "paved-scan-test-")
	if err != nil {
		panic(err)
	}
	downloadEnv = os.Environ()
	os.Setenv("TMPDIR", tmp)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			trafficTrap.Add(1)
			c.Close()
		}
	}()
	// Set before any HTTP client reads them (net/http caches the proxy
	// settings on first use).
	proxy := "http://" + ln.Addr().String()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		os.Setenv(k, proxy)
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	// The go command that builds the fixtures and loads packages for
	// govulncheck must use only the module cache.
	os.Setenv("GOPROXY", "off")
	os.Setenv("GOTOOLCHAIN", "local")
	os.Setenv("GOFLAGS", "-mod=mod")
	code := m.Run()
	ln.Close()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// downloadEnv is the environment the tests started with, before TestMain
// took the network away.
var downloadEnv []string

// fetchModules puts modules at versions paved itself does not use into the
// module cache, from the module proxy the go command normally uses: the
// scans under test then read them offline. Under CI a failed download
// fails the test.
func fetchModules(t *testing.T, modVersions ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"mod", "download"}, modVersions...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(slices.Clone(downloadEnv), "GOFLAGS=", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		ci.Unavailable(t, "go mod download %v: %v\n%s", modVersions, err, out)
	}
}

// writeTrivyDB writes a Trivy database with the fixture advisories into
// dir (a Trivy cache: dir/db/trivy.db and dir/db/metadata.json).
func writeTrivyDB(t testing.TB, dir string, updated time.Time) {
	t.Helper()
	dbDir := filepath.Join(dir, TrivyDBDir)
	trivyMu.Lock()
	defer trivyMu.Unlock()
	if err := trivydb.Init(dbDir); err != nil {
		t.Fatal(err)
	}
	defer trivydb.Close()
	dbc := trivydb.Config{}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		if err := dbc.PutDataSource(tx, ghsaGoBucket, dbtypes.DataSource{
			ID:   vulnerability.GHSA,
			Name: "GitHub Security Advisory Go",
			URL:  "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Ago",
		}); err != nil {
			return err
		}
		advisories := []struct {
			id  string
			adv dbtypes.Advisory
			vul dbtypes.Vulnerability
		}{
			{critCVE, dbtypes.Advisory{VulnerableVersions: []string{"<1.6.1"}, PatchedVersions: []string{"1.6.1"}},
				dbtypes.Vulnerability{Title: "uuid: predictable NewString (test advisory)", Severity: "CRITICAL",
					VendorSeverity: dbtypes.VendorSeverity{vulnerability.GHSA: dbtypes.SeverityCritical}}},
			{highCVE, dbtypes.Advisory{VulnerableVersions: []string{">=1.0.0"}},
				dbtypes.Vulnerability{Title: "uuid: weak NewSHA1 (test advisory)", Severity: "HIGH",
					VendorSeverity: dbtypes.VendorSeverity{vulnerability.GHSA: dbtypes.SeverityHigh}}},
		}
		for _, a := range advisories {
			if err := dbc.PutAdvisory(tx, []string{ghsaGoBucket, fixtureModule}, a.id, a.adv); err != nil {
				return err
			}
			if err := dbc.PutVulnerability(tx, a.id, a.vul); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := metadata.NewClient(dbDir).Update(metadata.Metadata{
		Version:    trivydb.SchemaVersion,
		NextUpdate: updated.Add(24 * time.Hour),
		UpdatedAt:  updated,
	}); err != nil {
		t.Fatal(err)
	}
}

// writeGoVulnDB writes a Go vulnerability database in x/vuln's v1 file
// layout into dir/govulndb with the fixture entries.
func writeGoVulnDB(t testing.TB, dir string) {
	t.Helper()
	writeGoVulnDBOf(t, dir, "2025-01-02T03:04:05Z", []goAdvisory{
		{ID: critGO, Alias: critCVE, Module: fixtureModule, Package: fixtureModule, Symbol: "NewString", Fixed: "1.6.1"},
		{ID: highGO, Alias: highCVE, Module: fixtureModule, Package: fixtureModule, Symbol: "NewSHA1"},
	})
}

// goAdvisory is one entry of a test Go vulnerability database: Symbol in
// Package of Module is vulnerable before Fixed ("" for no fix).
type goAdvisory struct {
	ID, Alias, Module, Package, Symbol, Fixed string
}

// writeGoVulnDBOf writes a Go vulnerability database in x/vuln's v1 file
// layout into dir/govulndb, last modified at modified.
func writeGoVulnDBOf(t testing.TB, dir, modified string, advs []goAdvisory) {
	t.Helper()
	root := filepath.Join(dir, GoVulnDir)
	entry := func(a goAdvisory) map[string]any {
		events := []map[string]string{{"introduced": "0"}}
		if a.Fixed != "" {
			events = append(events, map[string]string{"fixed": a.Fixed})
		}
		return map[string]any{
			"schema_version": "1.3.1",
			"id":             a.ID,
			"modified":       modified,
			"published":      modified,
			"aliases":        []string{a.Alias},
			"summary":        "Test advisory for " + a.Symbol + " in " + a.Package,
			"details":        "Invented for paved's scan tests.",
			"affected": []any{map[string]any{
				"package": map[string]string{"name": a.Module, "ecosystem": "Go"},
				"ranges":  []any{map[string]any{"type": "SEMVER", "events": events}},
				"ecosystem_specific": map[string]any{"imports": []any{map[string]any{
					"path": a.Package, "symbols": []string{a.Symbol},
				}}},
			}},
			"database_specific": map[string]string{"url": "https://pkg.go.dev/vuln/" + a.ID},
		}
	}
	var modules, vulns []any
	byModule := map[string][]any{}
	files := map[string]any{"index/db.json": map[string]string{"modified": modified}}
	for _, a := range advs {
		if _, ok := byModule[a.Module]; !ok {
			modules = append(modules, a.Module)
		}
		v := map[string]string{"id": a.ID, "modified": modified}
		if a.Fixed != "" {
			v["fixed"] = a.Fixed
		}
		byModule[a.Module] = append(byModule[a.Module], v)
		vulns = append(vulns, map[string]any{"id": a.ID, "modified": modified, "aliases": []string{a.Alias}})
		files["ID/"+a.ID+".json"] = entry(a)
	}
	for i, m := range modules {
		modules[i] = map[string]any{"path": m, "vulns": byModule[m.(string)]}
	}
	files["index/modules.json"] = modules
	files["index/vulns.json"] = vulns
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	for name, v := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// airGapped returns a DBDir holding both databases.
func airGapped(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	writeTrivyDB(t, dir, time.Now().UTC().Truncate(time.Second))
	writeGoVulnDB(t, dir)
	return dir
}

const vulnerableMain = `package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() { fmt.Println(uuid.NewString()) }
`

const cleanMain = `package main

import "fmt"

func main() { fmt.Println("hello") }
`

type fixture struct {
	dir string
	idx v1.ImageIndex
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[string]*fixture{}
)

// service writes and builds a fixture service once per test binary:
// "vulnerable" (uuid v1.6.0, linux/amd64 and linux/arm64) or "clean"
// (standard library only, linux/amd64).
func service(t testing.TB, kind string) fixture {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if f, ok := fixtures[kind]; ok {
		return *f
	}
	dir, err := os.MkdirTemp("", "paved-scan-fixture-")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}}
	switch kind {
	case "vulnerable":
		files["go.mod"] = "module example.com/vulnsvc\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n"
		files["go.sum"] = "github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n" +
			"github.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n"
		files["main.go"] = vulnerableMain
		platforms = append(platforms, v1.Platform{OS: "linux", Architecture: "arm64"})
	case "clean":
		files["go.mod"] = "module example.com/cleansvc\n\ngo 1.22\n"
		files["main.go"] = cleanMain
	default:
		t.Fatalf("no fixture %q", kind)
	}
	for n, c := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	idx, err := build.Go(context.Background(), build.Options{Dir: dir, Platforms: platforms})
	if err != nil {
		t.Fatalf("building the %s fixture: %v", kind, err)
	}
	f := &fixture{dir: dir, idx: idx}
	fixtures[kind] = f
	return *f
}
