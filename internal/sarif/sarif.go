// Package sarif writes SARIF 2.1.0 logs, the format code-scanning services
// read, from go-sarif's model: the pieces modules/lint and modules/scan
// build their runs from, and the writer that makes the log valid against
// the schema. It stays light: go-sarif, the standard library and
// internal/version only.
package sarif

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/pavedhq/paved/internal/version"
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

// ModuleVersion is the version of module path linked into this program,
// the tool version a run's driver names: "" when the program carries no
// build information or does not link path, so that the log leaves the
// version out rather than claim one (version.Module would say devel).
func ModuleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return depVersion(bi, path)
}

// depVersion is the version of the dependency path in bi (its
// replacement's when replaced); "" for the program's own module.
func depVersion(bi *debug.BuildInfo, path string) string {
	if path == bi.Main.Path {
		return ""
	}
	return version.Of(bi, path)
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
