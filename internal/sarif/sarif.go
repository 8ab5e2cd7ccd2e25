// Package sarif writes SARIF 2.1.0 logs, the format code-scanning services
// read, from go-sarif's model: the pieces modules/lint and modules/scan
// build their runs from, and the writer that makes the log valid against
// the schema. It stays light: go-sarif and the standard library only.
package sarif

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"

	"github.com/owenrumney/go-sarif/v2/sarif"
)

// NewRun starts the run of the tool driver describes, with its rules and
// results empty lists rather than null: add them to driver.Rules and with
// run.AddResult.
func NewRun(driver *sarif.ToolComponent) *sarif.Run {
	driver.Rules = []*sarif.ReportingDescriptor{}
	run := sarif.NewRun(*sarif.NewTool(driver))
	run.Results = []*sarif.Result{}
	return run
}

// Location is a place in a file, its path relative and slash-separated,
// with its line and column when known (above 0; a column only with a
// line).
func Location(file string, line, col int) *sarif.Location {
	phys := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation((&url.URL{Path: file}).String()))
	if line > 0 {
		region := sarif.NewRegion().WithStartLine(line)
		if col > 0 {
			region.WithStartColumn(col)
		}
		phys.WithRegion(region)
	}
	return sarif.NewLocationWithPhysicalLocation(phys)
}

// Accepted is the suppression of a finding an exception accepts, with the
// exception's reason.
func Accepted(reason string) []*sarif.Suppression {
	return []*sarif.Suppression{sarif.NewSuppression("external").WithStatus("accepted").WithJustifcation(reason)}
}

// Write writes runs as one SARIF 2.1.0 log, indented, ending with a
// newline.
func Write(w io.Writer, runs []*sarif.Run) error {
	log, err := sarif.New(sarif.Version210)
	if err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	for _, r := range runs {
		log.AddRun(r)
	}
	b, err := json.Marshal(log)
	if err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	// go-sarif v2 writes a suppression's unset location and guid as null,
	// which the SARIF schema (and code-scanning uploads that validate
	// against it) refuse: drop null members before writing.
	var doc any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("SARIF: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(dropNulls(doc))
}

// dropNulls removes the members whose value is null from every object in v.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}
