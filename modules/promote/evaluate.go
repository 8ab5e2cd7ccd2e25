package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Rule names a check of the policy, as messages and reports spell it.
type Rule string

// The rules, in the order they are checked.
const (
	RuleReference  Rule = "reference"          // a tag given with the digest still points at it
	RuleSignature  Rule = "signature"          // signed by an allowed signer
	RuleProvenance Rule = "provenance"         // signed SLSA provenance about the image
	RuleBuilder    Rule = "provenance.builder" // from an allowed builder
	RuleSource     Rule = "provenance.source"  // built from an allowed repository
	RuleSBOM       Rule = "sbom"               // a signed SBOM attestation
	RuleScan       Rule = "scan"               // within the vulnerability gate
)

// Verdict is the outcome of one rule.
type Verdict struct {
	Rule   Rule   `json:"rule"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail"` // why it passed or failed
}

func (v Verdict) String() string {
	word := "failed"
	if v.Passed {
		word = "passed"
	}
	return fmt.Sprintf("%-18s %s: %s", v.Rule, word, v.Detail)
}

// Evaluation is the policy's verdict on one image.
type Evaluation struct {
	Subject  string    `json:"subject"` // REPO@sha256:…
	Verdicts []Verdict `json:"verdicts"`
	// Provenance summarises the accepted provenance, when there is one.
	Provenance *ProvenanceSummary `json:"provenance,omitempty"`
	Warnings   []string           `json:"warnings,omitempty"`
}

// ProvenanceSummary is what promotion keeps from the accepted provenance.
type ProvenanceSummary struct {
	BuilderID    string `json:"builderId"`
	Repository   string `json:"repository,omitempty"`
	Commit       string `json:"commit,omitempty"`
	InvocationID string `json:"invocationId,omitempty"`
}

// Passed reports whether every rule passed.
func (e *Evaluation) Passed() bool { return len(e.Failed()) == 0 }

// Failed returns the rules that failed.
func (e *Evaluation) Failed() []Verdict {
	var out []Verdict
	for _, v := range e.Verdicts {
		if !v.Passed {
			out = append(out, v)
		}
	}
	return out
}

// Evaluator checks an image against a policy. Checking signatures needs
// cosign, Trivy and friends, which paved's CLI does not link: the verify
// subpackage is the in-process implementation, and the CLI reaches it
// through paved-worker.
type Evaluator interface {
	// Evaluate returns a verdict for every rule the policy turns on. An
	// error means the image could not be evaluated at all (an unreachable
	// registry, say), not that it failed a rule.
	Evaluate(ctx context.Context, ref name.Digest, p Policy) (*Evaluation, error)
}

// RefusedError is returned when an image fails the policy.
type RefusedError struct {
	Subject string
	Failed  []Verdict
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "promotion of %s refused:", e.Subject)
	for _, v := range e.Failed {
		fmt.Fprintf(&b, " rule %s: %s;", v.Rule, v.Detail)
	}
	return strings.TrimSuffix(b.String(), ";")
}
