package pipelines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pavedhq/paved/modules/scan/expiry"
	"github.com/pavedhq/paved/runner/events"
)

// ConfigFile is the name of a service's settings file.
const ConfigFile = "paved.yaml"

// Config is a service's paved.yaml. Every field is optional; unknown
// fields are an error so a typo never silently falls back to a default.
type Config struct {
	Team    string `yaml:"team"`
	Service string `yaml:"service"`
	Path    string `yaml:"path"` // the golden path this service follows
	Main    string `yaml:"main"` // main package, relative to the service
	// Binaries puts several programs in one image (instead of main); the
	// first is the entrypoint unless Entrypoint names another.
	Binaries   []BinaryConfig `yaml:"binaries"`
	Entrypoint string         `yaml:"entrypoint"`
	// Toolchain lays a Go release (go1.26.8) under /usr/local/go in the
	// image, for images that build Go themselves.
	Toolchain string     `yaml:"toolchain"`
	Platforms []string   `yaml:"platforms"`
	Base      string     `yaml:"base"`  // "paved" (the minimal base) or an image reference
	Image     string     `yaml:"image"` // where to publish when no --image is given
	Tags      []string   `yaml:"tags"`
	Test      TestConfig `yaml:"test"`
	Scan      ScanConfig `yaml:"scan"`
	Sign      SignConfig `yaml:"sign"`
	// Lint (staticcheck) and SAST (gosec): see the block "lint and SAST"
	// below.
	Lint LintConfig `yaml:"lint"`
	SAST SASTConfig `yaml:"sast"`
	Job  JobConfig  `yaml:"job"` // batch jobs (python-batch)
	// Events lists where the service's CDEvents go, as --events takes
	// them: an http(s) URL, structured+URL, file:PATH (relative to the
	// service), stdout.
	Events []string `yaml:"events"`
	// Promote configures paved promote of the service (see promote.go).
	Promote PromoteConfig `yaml:"promote"`

	// Image contents and runtime (files, ldflags, container): see
	// ImageSettings. Kept in one block, validated by validateImage.
	ImageSettings `yaml:",inline"`
}

// BinaryConfig is one program of an image.
type BinaryConfig struct {
	Main string `yaml:"main"` // main package, relative to the service
	Name string `yaml:"name"` // default: the last element of its import path
}

// ScanConfig configures the vulnerability scan and its gate.
type ScanConfig struct {
	// VulnDB is an air-gapped database directory (Trivy's cache layout,
	// optionally with a Go vulnerability database under govulndb/).
	VulnDB string `yaml:"vulnDB"`
	// Required (default true) fails the scan step, and so the run before
	// anything is published, when a scanner cannot run for want of its
	// database. false publishes anyway and the report says "not scanned"
	// (or "partially scanned"); a scan that does run still gates.
	Required   *bool          `yaml:"required"`
	Severities []string       `yaml:"severities"` // default [CRITICAL]
	AnyFix     bool           `yaml:"anyFix"`     // fail even when no fix is available
	Ignore     []IgnoreConfig `yaml:"ignore"`
}

// IgnoreConfig accepts a finding for a while, for a stated reason.
type IgnoreConfig struct {
	ID      string `yaml:"id"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"` // YYYY-MM-DD: honoured through the end of that day, UTC (package expiry)
}

// SignConfig says who signs: the keyless identity CI signs as. paved
// verify and paved promote of the service (--source) accept it when no
// signer is named otherwise.
type SignConfig struct {
	Identity string `yaml:"identity"` // certificate subject, exact
	Issuer   string `yaml:"issuer"`   // OIDC issuer
}

// TestConfig configures the test step.
type TestConfig struct {
	Coverage *float64 `yaml:"coverage"` // minimum statement coverage, percent
	Packages []string `yaml:"packages"`
	Vet      *bool    `yaml:"vet"`
	// Env names the variables the tests read. Their values (never stored,
	// only hashed) are part of the test step's cache key.
	Env []string `yaml:"env"`
}

// Defaults.
var (
	DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}
	DefaultCoverage  = 80.0
)

// ConfigError is a problem with settings: a paved.yaml field or a flag.
// Front doors report it as bad usage.
type ConfigError struct {
	Field string // "paved.yaml: test.coverage", "--platform"
	Msg   string
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// maxConfigSize bounds paved.yaml: a settings file is a few hundred bytes,
// and a YAML parser fed megabytes of aliases is slow.
const maxConfigSize = 1 << 20

// LoadConfig reads dir/paved.yaml; a missing file gives the defaults.
func LoadConfig(dir string) (Config, error) {
	p := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}.withDefaults(), nil
	}
	if err != nil {
		return Config{}, &ConfigError{Field: p, Msg: err.Error()}
	}
	if len(b) > maxConfigSize {
		return Config{}, &ConfigError{Field: p, Msg: fmt.Sprintf("%d bytes is larger than the %d a settings file may be", len(b), maxConfigSize)}
	}
	c, err := ParseConfig(b)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Field = p + ": " + strings.TrimPrefix(ce.Field, ConfigFile+": ")
		}
		return Config{}, err
	}
	return c, nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type pipelines\.(\w+)`)

// ParseConfig parses paved.yaml strictly and applies defaults.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
			field := m[2]
			if prefix := sectionOf[m[3]]; prefix != "" {
				field = prefix + "." + field
			}
			return Config{}, &ConfigError{Field: ConfigFile + ": " + field, Msg: fmt.Sprintf("unknown field (line %s)", m[1])}
		}
		return Config{}, &ConfigError{Field: ConfigFile, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return Config{}, &ConfigError{Field: ConfigFile, Msg: "holds more than one YAML document"}
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c.withDefaults(), nil
}

// sectionOf names nested structs in errors the way the file spells them.
var sectionOf = map[string]string{"FileConfig": "files[]", "ContainerConfig": "container", "BinaryConfig": "binaries[]", "TestConfig": "test", "ScanConfig": "scan", "SignConfig": "sign", "IgnoreConfig": "scan.ignore[]", "PromoteConfig": "promote",
	"LintConfig": "lint", "SASTConfig": "sast", "CodeException": "lint.ignore[] or sast.ignore[]",
	"JobConfig": "job", "ResourcesConfig": "job.resources"}

func (c Config) validate() error {
	if err := c.validateBinaries(); err != nil {
		return err
	}
	if err := c.ImageSettings.validate(); err != nil {
		return err
	}
	if c.Toolchain != "" {
		if !toolchainVersion.MatchString(c.Toolchain) {
			return &ConfigError{Field: ConfigFile + ": toolchain", Msg: fmt.Sprintf("%q: want a Go release such as go1.26.8", c.Toolchain)}
		}
	}
	if cov := c.Test.Coverage; cov != nil && (*cov < 0 || *cov > 100) {
		return &ConfigError{Field: ConfigFile + ": test.coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", *cov)}
	}
	for _, name := range c.Test.Env {
		if !envName.MatchString(name) {
			return &ConfigError{Field: ConfigFile + ": test.env", Msg: fmt.Sprintf("%q is not a variable name (want letters, digits and _, such as DATABASE_URL)", name)}
		}
	}
	for _, p := range c.Platforms {
		if _, err := ParsePlatform(p); err != nil {
			return &ConfigError{Field: ConfigFile + ": platforms", Msg: err.Error()}
		}
	}
	for _, s := range c.Scan.Severities {
		if !knownSeverity[strings.ToUpper(s)] {
			return &ConfigError{Field: ConfigFile + ": scan.severities", Msg: fmt.Sprintf("unknown severity %q (want CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN)", s)}
		}
	}
	for i, ig := range c.Scan.Ignore {
		field := fmt.Sprintf("%s: scan.ignore[%d]", ConfigFile, i)
		if ig.ID == "" || strings.TrimSpace(ig.Reason) == "" {
			return &ConfigError{Field: field, Msg: "an ignored finding needs an id and a reason"}
		}
		if _, err := expiry.Parse(ig.Expires); err != nil {
			return &ConfigError{Field: field + ".expires", Msg: err.Error() + ", so no exception lasts forever"}
		}
	}
	if err := c.validateLint(); err != nil {
		return err
	}
	if err := c.Job.validate(); err != nil {
		return err
	}
	if (c.Sign.Identity == "") != (c.Sign.Issuer == "") {
		return &ConfigError{Field: ConfigFile + ": sign", Msg: "identity and issuer go together: a keyless signature is checked against both"}
	}
	for _, e := range c.Events {
		if _, err := events.ParseSpec(e); err != nil {
			return &ConfigError{Field: ConfigFile + ": events", Msg: err.Error()}
		}
	}
	if err := c.Promote.validate(); err != nil {
		return err
	}
	if c.Path != "" && Lookup(c.Path) == nil {
		return &ConfigError{Field: ConfigFile + ": path", Msg: fmt.Sprintf("unknown golden path %q (known: %s)", c.Path, strings.Join(Names(), ", "))}
	}
	return nil
}

var toolchainVersion = regexp.MustCompile(`^go1\.[0-9]+(\.[0-9]+|rc[0-9]+)?$`)

// validateBinaries checks binaries: and entrypoint: as far as the file
// tells; a name left to the main package's import path is checked by the
// build.
func (c Config) validateBinaries() error {
	if len(c.Binaries) > 0 && c.Main != "" {
		return &ConfigError{Field: ConfigFile + ": main", Msg: "main and binaries: list the main package under binaries instead"}
	}
	seen := map[string]bool{}
	for i, b := range c.Binaries {
		field := fmt.Sprintf("%s: binaries[%d]", ConfigFile, i)
		if strings.TrimSpace(b.Main) == "" {
			return &ConfigError{Field: field + ".main", Msg: "each binary needs its main package, such as ./cmd/server"}
		}
		if b.Name != "" && (b.Name == "." || b.Name == ".." || strings.ContainsAny(b.Name, "/\\ \t\n")) {
			return &ConfigError{Field: field + ".name", Msg: fmt.Sprintf("%q is not a file name", b.Name)}
		}
		n := b.Name
		if n == "" {
			n = path.Base(filepath.ToSlash(b.Main))
		}
		if seen[n] {
			return &ConfigError{Field: field + ".name", Msg: fmt.Sprintf("two binaries are named %q", n)}
		}
		seen[n] = true
	}
	if c.Entrypoint != "" {
		if len(c.Binaries) == 0 {
			return &ConfigError{Field: ConfigFile + ": entrypoint", Msg: "names one of binaries:, and there are none"}
		}
		if !seen[c.Entrypoint] {
			return &ConfigError{Field: ConfigFile + ": entrypoint", Msg: fmt.Sprintf("%q is none of the binaries' names", c.Entrypoint)}
		}
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var knownSeverity = map[string]bool{"CRITICAL": true, "HIGH": true, "MEDIUM": true, "LOW": true, "UNKNOWN": true}

func (c Config) withDefaults() Config {
	if c.Main == "" {
		c.Main = "."
	}
	if len(c.Platforms) == 0 {
		c.Platforms = DefaultPlatforms
	}
	if c.Base == "" {
		c.Base = "paved"
	}
	if c.Test.Coverage == nil {
		v := DefaultCoverage
		c.Test.Coverage = &v
	}
	if len(c.Test.Packages) == 0 {
		c.Test.Packages = []string{"./..."}
	}
	if len(c.Scan.Severities) == 0 {
		c.Scan.Severities = []string{"CRITICAL"}
	}
	for i, s := range c.Scan.Severities {
		c.Scan.Severities[i] = strings.ToUpper(s)
	}
	if c.Test.Vet == nil {
		v := true
		c.Test.Vet = &v
	}
	if c.Scan.Required == nil {
		v := true
		c.Scan.Required = &v
	}
	return c
}

// ---- lint and SAST (staticcheck and gosec): the lint step's settings ----

// LintConfig configures staticcheck (paved.yaml lint:) and its gate. Its
// defaults (on, failing on every finding) are applied by the golden path,
// so an empty section stays empty here.
type LintConfig struct {
	// Enabled (default true) runs the tool; false skips it, and the report
	// says it was disabled. A tool that is enabled and cannot run fails.
	Enabled *bool `yaml:"enabled"`
	// Checks selects rules in staticcheck's syntax: "all", an ID (SA4006,
	// G404), a glob ("SA*", "G4*"), "-" before any of them to turn it off.
	// Default: the tool's defaults.
	Checks []string `yaml:"checks"`
	// Severity is the least severe finding that fails: low (the default:
	// every finding), medium or high.
	Severity string `yaml:"severity"`
	// Mode is fail (the default) or warn: report findings without failing.
	Mode   string          `yaml:"mode"`
	Ignore []CodeException `yaml:"ignore"`
}

// SASTConfig configures gosec (paved.yaml sast:) and its gate, with the
// fields of lint:.
type SASTConfig LintConfig

// CodeException accepts a rule's findings, in one file or a glob of them
// when path is set, for a reason, until it expires.
type CodeException struct {
	Rule    string `yaml:"rule"`
	Path    string `yaml:"path"` // relative to the service, slash-separated; a glob (path.Match) allowed
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"` // YYYY-MM-DD: honoured through the end of that day, UTC (package expiry)
}

// LintModes are the gate's modes.
var LintModes = []string{"fail", "warn"}

var (
	checkPattern = regexp.MustCompile(`^-?(all|\*|[A-Za-z]+[0-9]*\*?)$`)
	rulePattern  = regexp.MustCompile(`^[A-Za-z]+[0-9]+$`)
)

func (c Config) validateLint() error {
	for _, sec := range []struct {
		name string
		cfg  LintConfig
	}{{"lint", c.Lint}, {"sast", LintConfig(c.SAST)}} {
		if err := sec.cfg.validate(ConfigFile + ": " + sec.name); err != nil {
			return err
		}
	}
	return nil
}

func (l LintConfig) validate(field string) error {
	for _, ch := range l.Checks {
		if !checkPattern.MatchString(ch) {
			return &ConfigError{Field: field + ".checks", Msg: fmt.Sprintf("%q: want all, a rule such as SA4006 or G404, or a glob such as SA* or G4*, each optionally after -", ch)}
		}
	}
	if l.Severity != "" && !slices.Contains([]string{"LOW", "MEDIUM", "HIGH"}, strings.ToUpper(l.Severity)) {
		return &ConfigError{Field: field + ".severity", Msg: fmt.Sprintf("%q: want low, medium or high", l.Severity)}
	}
	if l.Mode != "" && !slices.Contains(LintModes, l.Mode) {
		return &ConfigError{Field: field + ".mode", Msg: fmt.Sprintf("%q: want fail or warn", l.Mode)}
	}
	for i, e := range l.Ignore {
		f := fmt.Sprintf("%s.ignore[%d]", field, i)
		switch {
		case !rulePattern.MatchString(e.Rule):
			return &ConfigError{Field: f + ".rule", Msg: fmt.Sprintf("%q: an exception names one rule, such as SA4006 or G404", e.Rule)}
		case strings.TrimSpace(e.Reason) == "":
			return &ConfigError{Field: f + ".reason", Msg: "an exception needs a reason"}
		}
		if _, err := expiry.Parse(e.Expires); err != nil {
			return &ConfigError{Field: f + ".expires", Msg: err.Error() + ", so no exception lasts forever"}
		}
		if e.Path != "" {
			if _, err := path.Match(e.Path, ""); err != nil || path.IsAbs(e.Path) || strings.Contains(e.Path, "\\") ||
				path.Clean(e.Path) == ".." || strings.HasPrefix(path.Clean(e.Path), "../") {
				return &ConfigError{Field: f + ".path", Msg: fmt.Sprintf("%q: want a file or glob relative to the service, slash-separated", e.Path)}
			}
		}
	}
	return nil
}
