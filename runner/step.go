package runner

import (
	"context"
	"encoding/json"
)

// Step is one unit of work in a pipeline.
type Step interface {
	// Name identifies the step in the graph, the report and the cache.
	Name() string
	// Run does the work. Files go into in.OutDir. A step that ran but
	// failed (a red test, a gate) may return both a Result and an error,
	// so the report can still say what it found.
	Run(ctx context.Context, in Inputs) (*Result, error)
}

// Keyed is a Step that declares its inputs. Equal keys promise an equal
// result, which is what lets the cache serve the step without running it.
type Keyed interface {
	Step
	// Key hashes everything the step reads: files, settings, toolchain,
	// and the results of the steps it needs.
	Key(ctx context.Context, in Inputs) (string, error)
}

// Revalidator is a Keyed step whose result also lives outside the cache
// (a manifest in a registry, say). A cached result is reused only while
// Revalidate says it still holds.
type Revalidator interface {
	Revalidate(ctx context.Context, r *Result) (bool, error)
}

// Inputs is what a step is given to run.
type Inputs struct {
	// Deps holds the results of the steps this one needs, by name.
	Deps map[string]*Result
	// OutDir is an empty directory for the step's files.
	OutDir string
}

// Result is what a step produced.
type Result struct {
	// Value is the step's typed output as JSON, so it can be cached and
	// decoded by the steps that need it.
	Value json.RawMessage `json:"value,omitempty"`
	// Summary is one line for people: "coverage 91.2%", "sha256:ab12…".
	Summary string `json:"summary,omitempty"`
	// Export lists files (relative to Dir) worth copying to the run's
	// output directory, such as a JUnit report.
	Export []string `json:"export,omitempty"`
	// Dir holds the files the step wrote: its OutDir, or the cache entry
	// when the result was served from the cache.
	Dir string `json:"-"`
	// Cached reports that the result came from the cache.
	Cached bool `json:"-"`
}

// NewResult encodes v as the result's value.
func NewResult(v any, summary string) (*Result, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &Result{Value: b, Summary: summary}, nil
}

// Decode reads the result's value into v.
func (r *Result) Decode(v any) error {
	return json.Unmarshal(r.Value, v)
}
