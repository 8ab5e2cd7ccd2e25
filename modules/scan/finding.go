package scan

import (
	"cmp"
	"slices"
	"strings"
)

// Scanner names, as in Finding.Scanner and the SARIF runs.
const (
	Trivy       = "trivy"
	Govulncheck = "govulncheck"
)

// TargetSource is the Target of govulncheck's findings.
const TargetSource = "source"

// Finding is one vulnerability in one package of one target.
type Finding struct {
	ID           string   `json:"id"`
	Aliases      []string `json:"aliases,omitempty"` // other IDs of the same vulnerability (CVE, GHSA, GO)
	Package      string   `json:"package"`
	Version      string   `json:"version"`
	FixedVersion string   `json:"fixedVersion,omitempty"`
	Severity     string   `json:"severity"` // one of Severities
	Title        string   `json:"title,omitempty"`
	URL          string   `json:"url,omitempty"`
	Scanner      string   `json:"scanner"`             // Trivy or Govulncheck
	Target       string   `json:"target"`              // a platform ("linux/amd64") or TargetSource
	Location     string   `json:"location,omitempty"`  // trivy: the file in the image; govulncheck: the first call site, file:line
	Reachable    *bool    `json:"reachable,omitempty"` // govulncheck: whether a vulnerable symbol is called; nil for trivy
	Ignored      string   `json:"ignored,omitempty"`   // the reason, when an Ignore entry matched
}

// Fixable reports whether a fixed version is known.
func (f Finding) Fixable() bool { return f.FixedVersion != "" }

// ids returns the ID and its aliases.
func (f Finding) ids() []string { return append([]string{f.ID}, f.Aliases...) }

func (f Finding) key() string {
	return strings.Join([]string{f.Scanner, f.Target, f.ID, f.Package, f.Version}, "\x00")
}

// normalize fixes the severity's case and drops duplicates, merging what
// the copies know, then sorts: most severe first, then by ID, package,
// version, scanner and target, so the same findings always read the same.
func normalize(fs []Finding) []Finding {
	seen := map[string]int{}
	var out []Finding
	for _, f := range fs {
		f.Severity = strings.ToUpper(f.Severity)
		if rank(f.Severity) < 0 {
			f.Severity = "UNKNOWN"
		}
		k := f.key()
		i, dup := seen[k]
		if !dup {
			seen[k] = len(out)
			f.Aliases = slices.Clone(f.Aliases)
			out = append(out, f)
			continue
		}
		g := &out[i]
		if rank(f.Severity) < rank(g.Severity) {
			g.Severity = f.Severity
		}
		g.FixedVersion = cmp.Or(g.FixedVersion, f.FixedVersion)
		g.Title = cmp.Or(g.Title, f.Title)
		g.URL = cmp.Or(g.URL, f.URL)
		g.Location = cmp.Or(g.Location, f.Location)
		if f.Reachable != nil && (g.Reachable == nil || *f.Reachable) {
			g.Reachable = f.Reachable
		}
		g.Aliases = append(g.Aliases, f.Aliases...)
	}
	for i := range out {
		a := out[i].Aliases
		slices.Sort(a)
		a = slices.Compact(a)
		a = slices.DeleteFunc(a, func(s string) bool { return s == out[i].ID })
		out[i].Aliases = slices.Clip(a)
		if len(out[i].Aliases) == 0 {
			out[i].Aliases = nil
		}
	}
	slices.SortStableFunc(out, compareFindings)
	return out
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(rank(a.Severity), rank(b.Severity)),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.Package, b.Package),
		cmp.Compare(a.Version, b.Version),
		cmp.Compare(a.Scanner, b.Scanner),
		cmp.Compare(a.Target, b.Target),
	)
}
