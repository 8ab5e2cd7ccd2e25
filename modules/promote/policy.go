package promote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pavedhq/paved/modules/scan/expiry"
)

// PolicyAPIVersion is the version of the policy file format.
const PolicyAPIVersion = "paved.dev/v1alpha1"

// Policy is what an image must prove before it is promoted. The zero value
// of every optional field is the strict choice: provenance, an SBOM and a
// passing scan are required unless the policy says otherwise, and an image
// with no allowed signer never passes.
type Policy struct {
	APIVersion  string           `yaml:"apiVersion" json:"apiVersion,omitempty"`
	Environment string           `yaml:"environment" json:"environment"`
	Signers     []Signer         `yaml:"signers" json:"signers"`
	Provenance  ProvenancePolicy `yaml:"provenance" json:"provenance"`
	SBOM        SBOMPolicy       `yaml:"sbom" json:"sbom"`
	Scan        ScanPolicy       `yaml:"scan" json:"scan"`
}

// Signer is one accepted signer: a public key, or a keyless identity
// certified by Fulcio for an OIDC issuer.
type Signer struct {
	Key            string `yaml:"key" json:"key,omitempty"` // PEM file (relative to the policy) or KMS URI
	Issuer         string `yaml:"issuer" json:"issuer,omitempty"`
	Identity       string `yaml:"identity" json:"identity,omitempty"`
	IdentityRegexp string `yaml:"identityRegexp" json:"identityRegexp,omitempty"`
	TrustedRoot    string `yaml:"trustedRoot" json:"trustedRoot,omitempty"` // Sigstore trusted_root.json; default public good
}

func (s Signer) String() string {
	switch {
	case s.Key != "":
		return "key " + s.Key
	case s.Identity != "":
		return fmt.Sprintf("identity %s from %s", s.Identity, s.Issuer)
	default:
		return fmt.Sprintf("identity ~%s from %s", s.IdentityRegexp, s.Issuer)
	}
}

// ProvenancePolicy says which SLSA provenance is accepted. Empty lists
// accept any builder or repository; the check output says so.
type ProvenancePolicy struct {
	Required *bool `yaml:"required" json:"required,omitempty"` // default true
	// Builders are accepted builder.id values: exact, or a prefix ending in "*".
	Builders []string `yaml:"builders" json:"builders,omitempty"`
	// SourceRepositories are accepted source repositories, matched the
	// same way after normalising ("git+", ".git" and a trailing "/" dropped).
	SourceRepositories []string `yaml:"sourceRepositories" json:"sourceRepositories,omitempty"`
}

// SBOMPolicy says which signed SBOM attestations are required.
type SBOMPolicy struct {
	Required *bool    `yaml:"required" json:"required,omitempty"` // default true
	Formats  []string `yaml:"formats" json:"formats,omitempty"`   // spdx, cyclonedx; empty: either
}

// ScanPolicy is the vulnerability gate the image must pass.
type ScanPolicy struct {
	// Required (default true): a fresh scan must run and pass; one that
	// cannot run for want of a database fails the rule, naming it.
	Required   *bool         `yaml:"required" json:"required,omitempty"`
	Severities []string      `yaml:"severities" json:"severities,omitempty"`
	AnyFix     bool          `yaml:"anyFix" json:"anyFix,omitempty"`
	Ignore     []IgnoreEntry `yaml:"ignore" json:"ignore,omitempty"`
}

// IgnoreEntry accepts a finding until a date, for a stated reason.
type IgnoreEntry struct {
	ID      string `yaml:"id" json:"id"`
	Reason  string `yaml:"reason" json:"reason"`
	Expires string `yaml:"expires" json:"expires"` // YYYY-MM-DD: honoured through the end of that day, UTC (package expiry)
}

// Required reports whether a rule is on; unset means on.
func Required(b *bool) bool { return b == nil || *b }

// Defaults.
const (
	DefaultEnvironment = "production"
)

// DefaultSeverities is the scan gate when the policy names none: CRITICAL
// findings with a fix available fail.
var DefaultSeverities = []string{"CRITICAL"}

// PolicyError is a mistake in a policy file or the flags that extend it.
// Front doors report it as bad usage.
type PolicyError struct {
	Field string // "policy.yaml: provenance.builders[0]"
	Msg   string
}

func (e *PolicyError) Error() string { return e.Field + ": " + e.Msg }

// maxPolicySize bounds a policy file; a policy is a few hundred bytes.
const maxPolicySize = 1 << 20

// LoadPolicy reads and validates a policy file. Key and trusted root paths
// in it are taken relative to the file.
func LoadPolicy(path string) (Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return Policy{}, &PolicyError{Field: path, Msg: err.Error()}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPolicySize+1))
	if err != nil {
		return Policy{}, &PolicyError{Field: path, Msg: err.Error()}
	}
	if len(b) > maxPolicySize {
		return Policy{}, &PolicyError{Field: path, Msg: fmt.Sprintf("larger than %d bytes", maxPolicySize)}
	}
	p, err := ParsePolicy(filepath.Base(path), b)
	if err != nil {
		return Policy{}, err
	}
	dir := filepath.Dir(path)
	for i := range p.Signers {
		s := &p.Signers[i]
		if s.Key != "" && !isKMS(s.Key) && !filepath.IsAbs(s.Key) {
			s.Key = filepath.Join(dir, s.Key)
		}
		if s.TrustedRoot != "" && !filepath.IsAbs(s.TrustedRoot) {
			s.TrustedRoot = filepath.Join(dir, s.TrustedRoot)
		}
	}
	return p, nil
}

var unknownPolicyField = regexp.MustCompile(`line (\d+): field (\S+) not found in type promote\.(\w+)`)

var policySection = map[string]string{
	"Signer": "signers[]", "ProvenancePolicy": "provenance", "SBOMPolicy": "sbom",
	"ScanPolicy": "scan", "IgnoreEntry": "scan.ignore[]",
}

// ParsePolicy parses a policy document strictly: unknown fields, several
// documents and contradictory settings are errors naming the field. file
// names the document in errors. An empty document is the default policy.
func ParsePolicy(file string, b []byte) (Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		if m := unknownPolicyField.FindStringSubmatch(err.Error()); m != nil {
			field := m[2]
			if s := policySection[m[3]]; s != "" {
				field = s + "." + field
			}
			return Policy{}, &PolicyError{Field: file + ": " + field, Msg: fmt.Sprintf("unknown field (line %s)", m[1])}
		}
		return Policy{}, &PolicyError{Field: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return Policy{}, &PolicyError{Field: file, Msg: "holds more than one YAML document"}
	}
	if err := p.validate(file); err != nil {
		return Policy{}, err
	}
	return p.WithDefaults(), nil
}

// WithDefaults fills what the policy leaves unset.
func (p Policy) WithDefaults() Policy {
	if p.APIVersion == "" {
		p.APIVersion = PolicyAPIVersion
	}
	if p.Environment == "" {
		p.Environment = DefaultEnvironment
	}
	if len(p.Scan.Severities) == 0 {
		p.Scan.Severities = DefaultSeverities
	}
	return p
}

// Validate checks a policy assembled in code or extended by flags. file
// names it in errors.
func (p Policy) Validate(file string) error { return p.validate(file) }

func (p Policy) validate(file string) error {
	field := func(f string) string { return file + ": " + f }
	if p.APIVersion != "" && p.APIVersion != PolicyAPIVersion {
		return &PolicyError{Field: field("apiVersion"), Msg: fmt.Sprintf("%q: want %s", p.APIVersion, PolicyAPIVersion)}
	}
	for i, s := range p.Signers {
		f := field(fmt.Sprintf("signers[%d]", i))
		keyless := s.Issuer != "" || s.Identity != "" || s.IdentityRegexp != ""
		switch {
		case s.Key != "" && keyless:
			return &PolicyError{Field: f, Msg: "a signer is a key or a keyless identity, not both"}
		case s.Key != "":
			if s.TrustedRoot != "" {
				return &PolicyError{Field: f + ".trustedRoot", Msg: "only keyless signers use a trusted root"}
			}
		case s.Issuer == "":
			return &PolicyError{Field: f, Msg: "needs a key, or an issuer and an identity"}
		case (s.Identity == "") == (s.IdentityRegexp == ""):
			return &PolicyError{Field: f, Msg: "a keyless signer needs exactly one of identity and identityRegexp"}
		}
		if s.IdentityRegexp != "" {
			if _, err := regexp.Compile(s.IdentityRegexp); err != nil {
				return &PolicyError{Field: f + ".identityRegexp", Msg: err.Error()}
			}
		}
	}
	for i, b := range p.Provenance.Builders {
		if strings.TrimSpace(b) == "" || b == "*" {
			return &PolicyError{Field: field(fmt.Sprintf("provenance.builders[%d]", i)), Msg: fmt.Sprintf("%q accepts any builder; leave the list empty for that", b)}
		}
	}
	for i, r := range p.Provenance.SourceRepositories {
		if strings.TrimSpace(r) == "" || r == "*" {
			return &PolicyError{Field: field(fmt.Sprintf("provenance.sourceRepositories[%d]", i)), Msg: fmt.Sprintf("%q accepts any repository; leave the list empty for that", r)}
		}
	}
	if (len(p.Provenance.Builders) > 0 || len(p.Provenance.SourceRepositories) > 0) && !Required(p.Provenance.Required) {
		return &PolicyError{Field: field("provenance"), Msg: "builders or sourceRepositories are set but provenance is not required"}
	}
	for i, f := range p.SBOM.Formats {
		if f != SBOMSPDX && f != SBOMCycloneDX {
			return &PolicyError{Field: field(fmt.Sprintf("sbom.formats[%d]", i)), Msg: fmt.Sprintf("%q: want %s or %s", f, SBOMSPDX, SBOMCycloneDX)}
		}
	}
	if len(p.SBOM.Formats) > 0 && !Required(p.SBOM.Required) {
		return &PolicyError{Field: field("sbom"), Msg: "formats are set but an SBOM is not required"}
	}
	for _, s := range p.Scan.Severities {
		if !knownSeverity[s] {
			return &PolicyError{Field: field("scan.severities"), Msg: fmt.Sprintf("unknown severity %q (want CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN)", s)}
		}
	}
	for i, ig := range p.Scan.Ignore {
		f := field(fmt.Sprintf("scan.ignore[%d]", i))
		if ig.ID == "" || strings.TrimSpace(ig.Reason) == "" {
			return &PolicyError{Field: f, Msg: "an ignored finding needs an id and a reason"}
		}
		if _, err := expiry.Parse(ig.Expires); err != nil {
			return &PolicyError{Field: f + ".expires", Msg: err.Error() + ", so no exception lasts forever"}
		}
	}
	return nil
}

var knownSeverity = map[string]bool{"CRITICAL": true, "HIGH": true, "MEDIUM": true, "LOW": true, "UNKNOWN": true}

// SBOM formats a policy can require.
const (
	SBOMSPDX      = "spdx"
	SBOMCycloneDX = "cyclonedx"
)

func isKMS(ref string) bool {
	for _, p := range []string{"awskms://", "gcpkms://", "azurekms://", "hashivault://"} {
		if strings.HasPrefix(ref, p) {
			return true
		}
	}
	return false
}

// Match reports whether value is accepted by one of patterns: an exact
// match, or a prefix match for a pattern ending in "*".
func Match(patterns []string, value string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(value, prefix) {
				return true
			}
		} else if p == value {
			return true
		}
	}
	return false
}

// NormalizeRepository drops the spelling differences of one git
// repository URL: a "git+" scheme prefix, a ".git" suffix, a trailing
// slash and a "@ref" suffix.
func NormalizeRepository(u string) string {
	for {
		prev := u
		u = normalizeOnce(u)
		if u == prev {
			return u
		}
	}
}

func normalizeOnce(u string) string {
	u = strings.TrimPrefix(strings.TrimSpace(u), "git+")
	// The path starts after the host ("https://host/…") or after the
	// colon of scp-like syntax ("git@host:…"); an "@" in it starts a ref.
	path := 0
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.Index(u[i+3:], "/"); j >= 0 {
			path = i + 3 + j
		} else {
			path = len(u)
		}
	} else if i := strings.Index(u, ":"); i >= 0 {
		path = i
	}
	if i := strings.Index(u[path:], "@"); i >= 0 {
		u = u[:path+i]
	}
	return strings.TrimSuffix(strings.TrimRight(u, "/"), ".git")
}
