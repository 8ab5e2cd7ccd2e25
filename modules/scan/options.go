package scan

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options say where the vulnerability databases come from and what fails
// the gate.
type Options struct {
	// DBDir is an air-gapped database directory, laid out as Trivy's cache
	// (db/trivy.db, db/metadata.json), that holds the Go vulnerability
	// database in the x/vuln "v1" file layout under govulndb/. When set, no
	// scanner touches the network; a scanner whose database is absent there
	// cannot run.
	DBDir string
	// CacheDir is where Trivy's database is downloaded and kept when DBDir
	// is empty; default Trivy's own cache directory. It is only fetched to
	// scan an image: govulncheck's findings carry no severity of their own
	// and take it from Trivy's database when one is open.
	CacheDir string
	Gate     Gate
	// AllowIncomplete lets Run succeed when a scanner the input needs
	// (Trivy for an image, govulncheck for a source) cannot run for want of
	// its database. The report's Status and Missing say what was not
	// scanned. The zero value fails closed: Run returns an
	// *IncompleteError naming each missing database.
	AllowIncomplete bool
}

// Gate decides which findings block a release.
type Gate struct {
	Severities []string // severities that fail the gate; default ["CRITICAL"]
	AnyFix     bool     // false: only findings with a fix available fail; true: fail regardless of fix
	Ignore     []Ignore
}

// Ignore accepts a finding for a stated reason until it expires. An entry
// with no reason, or past its expiry, is not honoured, and the report says
// so.
type Ignore struct {
	ID     string // a vulnerability ID or alias: CVE-…, GHSA-…, GO-…
	Reason string
	// Expires is the last day the entry is honoured: through the end of
	// that day, UTC (package expiry); only its date counts. The zero time
	// never expires.
	Expires time.Time
}

// Input is what to scan; either may be empty.
type Input struct {
	Index  v1.ImageIndex // every platform of it is scanned with Trivy
	Source string        // a Go module directory, scanned with govulncheck
}

// Severities, most severe first.
var Severities = []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}

// DefaultSeverities fail the gate when Gate.Severities is empty.
var DefaultSeverities = []string{"CRITICAL"}

// Layout of DBDir.
const (
	TrivyDBDir = "db"       // Trivy's trivy.db and metadata.json
	GoVulnDir  = "govulndb" // a Go vulnerability database, x/vuln v1 layout
)

// severities returns the gate's severities upper-cased, in the order of
// Severities, or an error naming an unknown one.
func (g Gate) severities() ([]string, error) {
	want := map[string]bool{}
	for _, s := range g.Severities {
		u := strings.ToUpper(strings.TrimSpace(s))
		if rank(u) < 0 {
			return nil, fmt.Errorf("gate: unknown severity %q (want one of %s)", s, strings.Join(Severities, ", "))
		}
		want[u] = true
	}
	if len(want) == 0 {
		return DefaultSeverities, nil
	}
	var out []string
	for _, s := range Severities {
		if want[s] {
			out = append(out, s)
		}
	}
	return out, nil
}

// rank orders severities, 0 the most severe; -1 for an unknown name.
func rank(sev string) int {
	for i, s := range Severities {
		if s == sev {
			return i
		}
	}
	return -1
}
