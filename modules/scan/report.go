package scan

import (
	"encoding/json"
	"io"
)

// Report is what the scanners found, and the gate's verdict.
type Report struct {
	Findings []Finding      `json:"findings"` // deduplicated, most severe first
	Counts   map[string]int `json:"counts"`   // by severity, every one of Severities, not counting ignored findings
	Gate     GateResult     `json:"gate"`
	Scanners []string       `json:"scanners"` // the scanners that ran
	Warnings []string       `json:"warnings,omitempty"`
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
