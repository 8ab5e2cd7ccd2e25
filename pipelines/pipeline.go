package pipelines

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
	"github.com/pavedhq/paved/runner/events"
)

// Options are what a front door chose for a run. Empty fields fall back
// to the service's paved.yaml, then to paved's defaults.
type Options struct {
	Source string // the service directory; default "."
	Image  string // registry repository or oci:DIR; default oci:<Source>/.paved/image
	// Ref is the published image (REPO@sha256:…) that the verbs which
	// work on one read: sbom, scan, sign and attest.
	Ref       string
	Platforms []string // os/arch[/variant], comma-separated lists allowed
	Base      string
	Tags      []string
	// MinCoverage overrides paved.yaml's test.coverage when not nil.
	MinCoverage *float64
	// VulnDB overrides paved.yaml's scan.vulnDB: an air-gapped database
	// directory, so no scanner touches the network.
	VulnDB string
	// ScanRequired overrides paved.yaml's scan.required when not nil: false
	// publishes even when a scanner cannot run for want of its database.
	ScanRequired *bool
	// Lint and SAST override paved.yaml's lint.enabled and sast.enabled
	// when not nil: false skips staticcheck or gosec, and the report says
	// so.
	Lint, SAST *bool
	// Signing says how to sign and attest; the zero value does neither,
	// and the report says so.
	Signing Signing
	// Executor runs the heavy steps (SBOM, scan, sign, attest). With none,
	// a heavy step that has work fails, naming what is missing.
	Executor protocol.Executor
	// LintCache is a directory where the lint step keeps staticcheck's
	// facts and findings per package, so a run after a small change
	// re-analyses only the packages the change reaches (see
	// lint.Options.CacheDir). Empty keeps nothing; paved's CLI uses
	// staticcheck/ in its cache directory.
	LintCache string
}

// Signing is how a run signs. It holds secrets: never print or encode it.
type Signing struct {
	Key       string // a cosign key file or a KMS URI
	Password  []byte // the key file's password
	Keyless   bool   // a Fulcio certificate for IDToken, logged in Rekor
	FulcioURL string
	RekorURL  string
	// TrustedRoot is the Sigstore trusted_root.json that Fulcio's and
	// Rekor's answers must verify against; empty means public-good's (TUF).
	TrustedRoot string
	// IDToken gives the OIDC token for keyless signing. It is called when
	// signing starts, not before: the token is short-lived, and the tests
	// and the build come first.
	IDToken runner.TokenSource
}

// Enabled reports whether the run signs.
func (s Signing) Enabled() bool { return s.Key != "" || s.Keyless }

// String never shows the secrets.
func (s Signing) String() string {
	switch {
	case s.Key != "":
		return "key " + s.Key
	case s.Keyless:
		return "keyless via " + s.FulcioURL
	}
	return "none"
}

// OutputDir is where runs write their files, under the source directory.
// The go tool ignores directories whose names start with a dot.
const OutputDir = ".paved"

// Run is a prepared run of a golden path: its graph and context, and how
// to read the outcome into the run report.
type Run struct {
	Pipeline string
	Config   Config
	Context  runner.RunContext
	Graph    *runner.Graph
	// OutputDir receives the files steps export (JUnit, coverage, ...).
	OutputDir string
	// Fill copies what the steps found into the report.
	Fill func(*runner.Report, *runner.Outcome) error
	// ID and Started identify the run; provenance names them too.
	ID      string
	Started time.Time
	// Warnings say what the run chose not to do.
	Warnings []string
	// Events, when it has sinks, receives the run's CDEvents: pipelinerun,
	// taskrun per step, artifact. Its failures are warnings in the report.
	Events *events.Emitter
}

// ServiceName is paved.yaml's service, else the name of the source
// directory.
func (r *Run) ServiceName() string {
	if r.Config.Service != "" {
		return r.Config.Service
	}
	return filepath.Base(r.Context.Dir)
}

// A Path prepares a run. Errors it returns are about settings (flags or
// paved.yaml) and are usually ConfigErrors.
type Path func(ctx context.Context, o Options) (*Run, error)

// Golden paths register themselves, so that a front door links only the
// paths (and their heavy modules) it imports.
var (
	mu     sync.RWMutex
	paths  = map[string]Path{}
	listed = map[string]bool{}
)

// Register makes a path known by name. Unlisted paths (a module verb run on
// its own, such as "go-build") can be looked up but are not offered to users.
func Register(name string, p Path, list bool) {
	mu.Lock()
	defer mu.Unlock()
	paths[name], listed[name] = p, list
}

// Lookup returns the path with the given name, or nil.
func Lookup(name string) Path {
	mu.RLock()
	defer mu.RUnlock()
	return paths[name]
}

// Names lists the golden paths offered to users, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	var n []string
	for k := range paths {
		if listed[k] {
			n = append(n, k)
		}
	}
	sort.Strings(n)
	return n
}

// Prepare reads the source's context and paved.yaml.
func Prepare(ctx context.Context, name string, o Options) (*Run, error) {
	src := o.Source
	if src == "" {
		src = "."
	}
	info, err := os.Stat(src)
	if err != nil {
		return nil, &ConfigError{Field: "--source", Msg: err.Error()}
	}
	if !info.IsDir() {
		return nil, &ConfigError{Field: "--source", Msg: src + " is not a directory"}
	}
	cfg, err := LoadConfig(src)
	if err != nil {
		return nil, err
	}
	rc, err := runner.DetectContext(ctx, src)
	if err != nil {
		return nil, &ConfigError{Field: "environment", Msg: err.Error()}
	}
	started := time.Now().UTC()
	return &Run{Pipeline: name, Config: cfg, Context: rc, OutputDir: filepath.Join(rc.Dir, OutputDir),
		ID: runner.NewRunID(started), Started: started}, nil
}

// GoString keeps %#v from printing the secrets.
func (s Signing) GoString() string { return "pipelines.Signing{" + s.String() + "}" }

// MarshalJSON keeps the secrets out of any JSON the options end up in.
func (s Signing) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
