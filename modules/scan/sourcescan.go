package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"sync/atomic"
)

// govulncheck runs in two passes. The first, at the package level, loads
// only the import closure (go list: no parsing of function bodies, no type
// checking) and reports every advisory on a module of the closure and every
// vulnerable package the closure imports. When it finds no vulnerable
// package imported, a symbol-level scan would report exactly the same
// findings: a vulnerable symbol lies in a vulnerable package, and the
// module-level findings come from the same closure. So the second pass,
// type checking, SSA and the call graph (nine tenths of govulncheck's
// cost), runs only when a vulnerable package is imported, the one case
// where it can tell a called symbol from one that is not.
//
// What the first pass cannot see is code that does not compile: go list
// reads only imports. The build and test steps compile the same source.

// scanSource scans the module in dir with govulncheck and says whether the
// call graph was needed.
func scanSource(ctx context.Context, dir string, db govulnDB) (fs []Finding, callGraph bool, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, false, err
	}
	out, err := execGovulncheck(ctx, abs, db, "package")
	if err != nil {
		return nil, false, err
	}
	if !importsVulnerable(out) {
		fs, err := findingsOf(abs, out)
		return fs, false, err
	}
	callGraphRuns.Add(1)
	if out, err = execGovulncheck(ctx, abs, db, "symbol"); err != nil {
		return nil, true, err
	}
	fs, err = findingsOf(abs, out)
	return fs, true, err
}

// callGraphRuns counts govulncheck's symbol-level runs in this process,
// for tests.
var callGraphRuns atomic.Int64

// importsVulnerable reports whether the output of a package-level scan
// names a vulnerable package imported, or cannot be read as such a scan:
// either way only the symbol-level scan can give the findings.
func importsVulnerable(out []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(out))
	configured := false
	for {
		var m struct {
			Config *struct {
				ScanLevel string `json:"scan_level"`
				ScanMode  string `json:"scan_mode"`
			} `json:"config"`
			Finding *vulnFinding `json:"finding"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return !configured
		}
		if err != nil {
			return true
		}
		if c := m.Config; c != nil {
			if configured || c.ScanLevel != "package" || c.ScanMode != "source" {
				return true
			}
			configured = true
		}
		if f := m.Finding; f != nil {
			// The trace's first frame is the vulnerable one: a package
			// there means it is imported, a function that it is called.
			if f.OSV == "" || len(f.Trace) == 0 || f.Trace[0] == nil || f.Trace[0].Module == "" ||
				f.Trace[0].Package != "" || f.Trace[0].Function != "" {
				return true
			}
		}
	}
}
