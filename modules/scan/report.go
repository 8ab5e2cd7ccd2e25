package scan

import (
	"encoding/json"
	"io"
	"strings"
)

// Report is what the scanners found, and the gate's verdict.
type Report struct {
	// Status is Scanned when every scanner the input needs ran,
	// PartiallyScanned or NotScanned otherwise (see Missing).
	Status   string         `json:"status"`
	Findings []Finding      `json:"findings"` // deduplicated, most severe first
	Counts   map[string]int `json:"counts"`   // by severity, every one of Severities, not counting ignored findings
	// Gate is the verdict on what was scanned; it has not passed when
	// nothing was.
	Gate     GateResult `json:"gate"`
	Scanners []string   `json:"scanners"`          // the scanners that ran
	Missing  []string   `json:"missing,omitempty"` // "scanner: why it could not run", one per missing database
	Warnings []string   `json:"warnings,omitempty"`
	// CallGraph says govulncheck needed its call graph: the source imports
	// a vulnerable package (see scanSource). It is not written: the
	// findings are the same either way.
	CallGraph bool `json:"-"`
}

// Report statuses.
const (
	Scanned          = "scanned"
	PartiallyScanned = "partially scanned"
	NotScanned       = "not scanned"
)

func status(ran, missing int) string {
	switch {
	case missing == 0:
		return Scanned
	case ran == 0:
		return NotScanned
	}
	return PartiallyScanned
}

// IncompleteError is returned by Run, with the report, when a scanner the
// input needs could not run for want of its vulnerability database.
type IncompleteError struct {
	Status   string   // NotScanned or PartiallyScanned
	Missing  []string // "scanner: why it could not run"
	Scanners []string // the scanners that ran
}

func (e *IncompleteError) Error() string {
	s := e.Status
	if len(e.Scanners) > 0 {
		s += " (only " + strings.Join(e.Scanners, ", ") + " ran)"
	}
	return s + ": " + strings.Join(e.Missing, "; ")
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func count(fs []Finding) map[string]int {
	c := make(map[string]int, len(Severities))
	for _, s := range Severities {
		c[s] = 0
	}
	for _, f := range fs {
		if f.Ignored == "" {
			c[f.Severity]++
		}
	}
	return c
}
