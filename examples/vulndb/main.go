// Command vulndb writes an offline vulnerability database directory for
// paved's --vuln-db: Trivy's database (db/trivy.db, db/metadata.json) and a
// Go vulnerability database in x/vuln's v1 layout (govulndb/), both from a
// small JSON list of advisories. An advisory with "ecosystem": "npm" or
// "pip" goes into Trivy's database alone, for npm or Python packages.
//
// In production you mirror the real databases into such a directory on a
// connected machine (trivy --download-db-only --cache-dir DIR; a copy of
// vuln.go.dev under DIR/govulndb). This command exists so the examples and
// tests run with no network: the advisories it writes by default are
// invented (their IDs are in the 2099 range) and describe no real flaw.
//
//	go run ./examples/vulndb -o DIR [-advisories FILE]
package main

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	dbtypes "github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	bolt "go.etcd.io/bbolt"
)

// Advisory is one vulnerability in one Go module, or in one npm or pip
// package (Trivy's database only).
type Advisory struct {
	ID        string   `json:"id"`                  // CVE-... (Trivy's key)
	Ecosystem string   `json:"ecosystem,omitempty"` // go (the default), npm or pip
	GoID      string   `json:"goId"`                // GO-... (the Go database's key)
	Module    string   `json:"module"`              // module path, or the npm or pip package's name
	Affected  string   `json:"affected"`            // version range, e.g. "<1.6.1"
	Fixed     string   `json:"fixed"`               // first fixed version, "" when none
	Severity  string   `json:"severity"`            // CRITICAL, HIGH, MEDIUM, LOW
	Title     string   `json:"title"`
	Symbols   []string `json:"symbols"` // exported symbols govulncheck looks for
}

//go:embed demo.json
var demo []byte

// ghsaBuckets are where trivy-db's GitHub Security Advisory source keeps
// each ecosystem's advisories; Trivy's detectors read every bucket whose
// name starts with the ecosystem ("go::", "npm::", "pip::").
var ghsaBuckets = map[string]struct{ bucket, name, query string }{
	"go":  {"go::GitHub Security Advisory Go", "GitHub Security Advisory Go", "go"},
	"npm": {"npm::GitHub Security Advisory npm", "GitHub Security Advisory npm", "npm"},
	"pip": {"pip::GitHub Security Advisory pip", "GitHub Security Advisory pip", "pip"},
}

func ecosystem(a Advisory) string {
	if a.Ecosystem == "" {
		return "go"
	}
	return a.Ecosystem
}

func main() {
	out := flag.String("o", "", "directory to write (created if missing)")
	list := flag.String("advisories", "", "JSON file with a list of advisories (default: the invented demo set)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: vulndb -o DIR [-advisories FILE]")
		os.Exit(2)
	}
	b := demo
	if *list != "" {
		var err error
		if b, err = os.ReadFile(*list); err != nil {
			fmt.Fprintln(os.Stderr, "vulndb:", err)
			os.Exit(2)
		}
	}
	var advs []Advisory
	if err := json.Unmarshal(b, &advs); err != nil {
		fmt.Fprintf(os.Stderr, "vulndb: %s: %v\n", *list, err)
		os.Exit(2)
	}
	for _, a := range advs {
		if _, ok := ghsaBuckets[ecosystem(a)]; !ok {
			fmt.Fprintf(os.Stderr, "vulndb: %s: %s: unknown ecosystem %q (want go, npm or pip)\n", *list, a.ID, a.Ecosystem)
			os.Exit(2)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := writeTrivy(filepath.Join(*out, "db"), advs, now); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
	if err := writeGo(filepath.Join(*out, "govulndb"), advs, now); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func writeTrivy(dir string, advs []Advisory, now time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	os.Remove(filepath.Join(dir, "trivy.db"))
	if err := trivydb.Init(dir); err != nil {
		return err
	}
	defer trivydb.Close()
	dbc := trivydb.Config{}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, b := range ghsaBuckets {
			if err := dbc.PutDataSource(tx, b.bucket, dbtypes.DataSource{ID: vulnerability.GHSA, Name: b.name,
				URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3A" + b.query}); err != nil {
				return err
			}
		}
		for _, a := range advs {
			adv := dbtypes.Advisory{VulnerableVersions: []string{a.Affected}}
			if a.Fixed != "" {
				adv.PatchedVersions = []string{a.Fixed}
			}
			if err := dbc.PutAdvisory(tx, []string{ghsaBuckets[ecosystem(a)].bucket, a.Module}, a.ID, adv); err != nil {
				return err
			}
			sev, err := dbtypes.NewSeverity(a.Severity)
			if err != nil {
				return fmt.Errorf("%s: %w", a.ID, err)
			}
			if err := dbc.PutVulnerability(tx, a.ID, dbtypes.Vulnerability{Title: a.Title, Severity: a.Severity,
				VendorSeverity: dbtypes.VendorSeverity{vulnerability.GHSA: sev}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Trivy refuses an offline scan without metadata saying which schema
	// the database has.
	return metadata.NewClient(dir).Update(metadata.Metadata{Version: trivydb.SchemaVersion, NextUpdate: now.Add(24 * time.Hour), UpdatedAt: now})
}

func writeGo(root string, advs []Advisory, now time.Time) error {
	modified := now.Format(time.RFC3339)
	type vulnRef struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Fixed    string `json:"fixed,omitempty"`
	}
	modules := map[string][]vulnRef{}
	var order []string
	var vulns []map[string]any
	files := map[string]any{"index/db.json": map[string]string{"modified": modified}}
	for _, a := range advs {
		if ecosystem(a) != "go" {
			continue
		}
		if _, seen := modules[a.Module]; !seen {
			order = append(order, a.Module)
		}
		modules[a.Module] = append(modules[a.Module], vulnRef{ID: a.GoID, Modified: modified, Fixed: a.Fixed})
		vulns = append(vulns, map[string]any{"id": a.GoID, "modified": modified, "aliases": []string{a.ID}})
		events := []map[string]string{{"introduced": "0"}}
		if a.Fixed != "" {
			events = append(events, map[string]string{"fixed": a.Fixed})
		}
		files["ID/"+a.GoID+".json"] = map[string]any{
			"schema_version": "1.3.1", "id": a.GoID, "modified": modified, "published": modified,
			"aliases": []string{a.ID}, "summary": a.Title, "details": a.Title,
			"affected": []any{map[string]any{
				"package":            map[string]string{"name": a.Module, "ecosystem": "Go"},
				"ranges":             []any{map[string]any{"type": "SEMVER", "events": events}},
				"ecosystem_specific": map[string]any{"imports": []any{map[string]any{"path": a.Module, "symbols": a.Symbols}}},
			}},
			"database_specific": map[string]string{"url": "https://pkg.go.dev/vuln/" + a.GoID},
		}
	}
	var mods []any
	for _, m := range order {
		mods = append(mods, map[string]any{"path": m, "vulns": modules[m]})
	}
	files["index/modules.json"] = mods
	files["index/vulns.json"] = vulns
	for name, v := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
