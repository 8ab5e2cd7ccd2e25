package lint

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Tool names, as in Finding.Tool and the SARIF runs.
const (
	Staticcheck = "staticcheck"
	Gosec       = "gosec"
)

// Severities, most severe first. gosec's are its own; staticcheck's are
// mapped from its checks' documented severity (error: HIGH; warning and
// deprecation: MEDIUM; the rest: LOW).
var Severities = []string{"HIGH", "MEDIUM", "LOW"}

// Finding is one diagnostic of one rule at one place.
type Finding struct {
	Tool       string `json:"tool"`
	Rule       string `json:"rule"` // SA4006, G404
	Severity   string `json:"severity"`
	Confidence string `json:"confidence,omitempty"` // gosec's confidence in the finding
	CWE        string `json:"cwe,omitempty"`        // gosec: CWE-338
	Title      string `json:"title,omitempty"`      // the rule's one-line description
	Message    string `json:"message"`
	URL        string `json:"url,omitempty"` // the rule's documentation
	// File is relative to the module directory, slash-separated. Line and
	// Col are 1-based; 0 when unknown.
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
	// Ignored is the reason of the exception that accepts the finding.
	Ignored string `json:"ignored,omitempty"`
	// Expired is the last day of an exception that matched the finding but
	// has lapsed, so no longer accepts it.
	Expired string `json:"expired,omitempty"`
	// Blocking says the finding fails its tool's gate.
	Blocking bool `json:"blocking,omitempty"`
}

// Place is file:line:col, as editors read it.
func (f Finding) Place() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Line > 0 {
		b.WriteString(":" + strconv.Itoa(f.Line))
		if f.Col > 0 {
			b.WriteString(":" + strconv.Itoa(f.Col))
		}
	}
	return b.String()
}

// String names a finding in one line, for errors and the report.
func (f Finding) String() string {
	return f.Tool + " " + f.Rule + " (" + f.Severity + ") at " + f.Place() + ": " + f.Message
}

// rank orders severities, most severe first; unknown ones last.
func rank(sev string) int {
	if i := slices.Index(Severities, sev); i >= 0 {
		return i
	}
	return len(Severities)
}

// normalize sorts findings by tool, file, line, column and rule, and drops
// exact duplicates (a package analysed as more than one variant).
func normalize(fs []Finding) []Finding {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Tool, b.Tool), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(fs, func(a, b Finding) bool {
		return a.Tool == b.Tool && a.Rule == b.Rule && a.File == b.File && a.Line == b.Line && a.Col == b.Col && a.Message == b.Message
	})
}
