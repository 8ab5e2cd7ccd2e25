package pipelines

import (
	"context"
	"sort"

	"github.com/pavedhq/paved/runner"
)

// Options are what a front door chose for a run. Empty fields fall back
// to the service's paved.yaml, then to paved's defaults.
type Options struct {
	Source    string   // the service directory; default "."
	Image     string   // registry repository or oci:DIR; default oci:<Source>/.paved/image
	Platforms []string // os/arch[/variant], comma-separated lists allowed
	Base      string
	Tags      []string
	// MinCoverage overrides paved.yaml's test.coverage when not nil.
	MinCoverage *float64
}

// Run is a prepared run of a golden path: its graph and context, and how
// to read the outcome into the run report.
type Run struct {
	Pipeline string
	Config   Config
	Context  runner.RunContext
	Graph    *runner.Graph
	// OutputDir receives the files steps export (JUnit, coverage, ...).
	OutputDir string
}

// A Path prepares a run. Errors it returns are about settings (flags or
// paved.yaml) and are usually ConfigErrors.
type Path func(ctx context.Context, o Options) (*Run, error)

var paths map[string]Path

func init() {
	// Set in init: GoService reads paths (through Config validation).
	paths = map[string]Path{"go-service": GoService}
}

// Lookup returns the golden path with the given name, or nil.
func Lookup(name string) Path { return paths[name] }

// Names lists the golden paths, sorted.
func Names() []string {
	var n []string
	for k := range paths {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
