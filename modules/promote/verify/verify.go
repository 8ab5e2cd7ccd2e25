// Package verify checks images against a promotion policy in process, with
// cosign's verification, in-toto statements and a Trivy scan. It links the
// heavy libraries, so paved's CLI reaches it through paved-worker; Go
// programs can use it directly as a promote.Evaluator.
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/modules/attest"
	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/modules/registry"
	"github.com/pavedhq/paved/modules/scan"
	"github.com/pavedhq/paved/modules/scan/expiry"
	"github.com/pavedhq/paved/modules/sign"
)

// Evaluator is the in-process promote.Evaluator.
type Evaluator struct {
	// VulnDB is an air-gapped vulnerability database (scan.Options.DBDir);
	// empty means Trivy's database is downloaded and cached as usual.
	VulnDB string
	// Remote are registry options (auth, transport); they override
	// paved's defaults (registry.Options).
	Remote []remote.Option
}

var _ promote.Evaluator = (*Evaluator)(nil)

// Evaluate checks ref against p, rule by rule. A rule that fails does not
// stop the others, so the answer lists everything wrong at once.
func (e *Evaluator) Evaluate(ctx context.Context, ref name.Digest, p promote.Policy) (*promote.Evaluation, error) {
	desc, err := remote.Get(ref, e.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ref, err)
	}
	out := &promote.Evaluation{Subject: ref.String()}
	add := func(r promote.Rule, passed bool, format string, args ...any) {
		out.Verdicts = append(out.Verdicts, promote.Verdict{Rule: r, Passed: passed, Detail: fmt.Sprintf(format, args...)})
	}

	signers := make([]sign.Policy, len(p.Signers))
	for i, s := range p.Signers {
		signers[i] = sign.Policy{Key: s.Key, Issuer: s.Issuer, Identity: s.Identity, IdentityRegexp: s.IdentityRegexp, TrustedRoot: s.TrustedRoot}
	}

	// signature
	if len(signers) == 0 {
		add(promote.RuleSignature, false, "the policy names no signer: add signers to it, or --key")
	} else if who, errs := e.signature(ctx, ref, p.Signers, signers); who != "" {
		add(promote.RuleSignature, true, "signed by %s", who)
	} else {
		add(promote.RuleSignature, false, "no signature by an allowed signer (%s)", errs)
	}

	// provenance, builder, source
	if promote.Required(p.Provenance.Required) {
		sts, errs := e.statements(ctx, ref, attest.SLSAProvenance, signers)
		if len(sts) == 0 {
			add(promote.RuleProvenance, false, "no SLSA provenance v1 about %s signed by an allowed signer (%s)", ref.DigestStr(), errs)
		} else {
			e.provenance(sts, p.Provenance, out, add)
		}
	}

	// sbom
	if promote.Required(p.SBOM.Required) {
		formats := p.SBOM.Formats
		var found, missing []string
		for _, f := range []string{promote.SBOMSPDX, promote.SBOMCycloneDX} {
			sts, _ := e.statements(ctx, ref, sbomPredicate[f], signers)
			switch {
			case len(sts) > 0:
				found = append(found, f)
			case slices.Contains(formats, f):
				missing = append(missing, f)
			}
		}
		switch {
		case len(missing) > 0:
			add(promote.RuleSBOM, false, "no signed %s SBOM attestation", strings.Join(missing, " or "))
		case len(found) == 0:
			add(promote.RuleSBOM, false, "no signed SBOM attestation (SPDX or CycloneDX) about %s", ref.DigestStr())
		default:
			add(promote.RuleSBOM, true, "signed %s attestation(s)", strings.Join(found, " and "))
		}
	}

	// scan
	if promote.Required(p.Scan.Required) {
		passed, detail, warns, err := e.scan(ctx, desc, p.Scan)
		if err != nil {
			return nil, err
		}
		out.Warnings = append(out.Warnings, warns...)
		add(promote.RuleScan, passed, "%s", detail)
	}
	return out, nil
}

var sbomPredicate = map[string]string{promote.SBOMSPDX: attest.SPDX, promote.SBOMCycloneDX: attest.CycloneDX}

func (e *Evaluator) options(ctx context.Context) []remote.Option {
	return registry.Options(ctx, e.Remote...)
}

// signature returns the first allowed signer whose signature verifies, or
// why none did.
func (e *Evaluator) signature(ctx context.Context, ref name.Digest, named []promote.Signer, signers []sign.Policy) (string, string) {
	var why []string
	for i, s := range signers {
		if _, err := sign.Verify(ctx, ref, s, e.Remote...); err != nil {
			why = append(why, named[i].String()+": "+reason(err))
			continue
		}
		return named[i].String(), ""
	}
	return "", strings.Join(why, "; ")
}

// statements returns the statements of predicateType about ref that an
// allowed signer signed.
func (e *Evaluator) statements(ctx context.Context, ref name.Digest, predicateType string, signers []sign.Policy) ([]*attest.Statement, string) {
	var out []*attest.Statement
	var why []string
	for _, s := range signers {
		sts, err := attest.Verify(ctx, ref, predicateType, s, e.Remote...)
		if err != nil {
			why = append(why, reason(err))
			continue
		}
		out = append(out, sts...)
	}
	if len(signers) == 0 {
		why = append(why, "no signer to verify with")
	}
	return out, strings.Join(why, "; ")
}

// reason shortens cosign's errors to their last, most specific part.
func reason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

// slsa is the part of a SLSA provenance v1 predicate promotion reads.
type slsa struct {
	BuildDefinition struct {
		ExternalParameters   map[string]any `json:"externalParameters"`
		ResolvedDependencies []struct {
			Name   string            `json:"name"`
			URI    string            `json:"uri"`
			Digest map[string]string `json:"digest"`
		} `json:"resolvedDependencies"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string `json:"invocationId"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

// sourceOf finds the source repository and commit a provenance names: the
// git dependency (SLSA's convention), else externalParameters.source.
func sourceOf(p slsa) (repo, commit string) {
	for _, d := range p.BuildDefinition.ResolvedDependencies {
		if c := d.Digest["gitCommit"]; c != "" || strings.HasPrefix(d.URI, "git+") {
			return promote.NormalizeRepository(d.URI), c
		}
	}
	if src, ok := p.BuildDefinition.ExternalParameters["source"].(map[string]any); ok {
		if r, ok := src["repository"].(string); ok {
			return promote.NormalizeRepository(r), ""
		}
	}
	if r, ok := p.BuildDefinition.ExternalParameters["repository"].(string); ok {
		return promote.NormalizeRepository(r), ""
	}
	return "", ""
}

func (e *Evaluator) provenance(sts []*attest.Statement, pp promote.ProvenancePolicy, out *promote.Evaluation, add func(promote.Rule, bool, string, ...any)) {
	var parsed []slsa
	for _, st := range sts {
		var p slsa
		if err := json.Unmarshal(st.Predicate, &p); err == nil && p.RunDetails.Builder.ID != "" {
			parsed = append(parsed, p)
		}
	}
	if len(parsed) == 0 {
		add(promote.RuleProvenance, false, "signed provenance found, but none names a builder")
		return
	}
	add(promote.RuleProvenance, true, "%d signed SLSA provenance statement(s)", len(parsed))

	// One statement must satisfy every constraint; mixing the builder of one
	// with the source of another proves nothing.
	var builders, repos []string
	for _, p := range parsed {
		repo, commit := sourceOf(p)
		okBuilder := len(pp.Builders) == 0 || promote.Match(pp.Builders, p.RunDetails.Builder.ID)
		okRepo := len(pp.SourceRepositories) == 0 || matchRepo(pp.SourceRepositories, repo)
		if okBuilder && okRepo {
			out.Provenance = &promote.ProvenanceSummary{BuilderID: p.RunDetails.Builder.ID, Repository: repo, Commit: commit, InvocationID: p.RunDetails.Metadata.InvocationID}
			if len(pp.Builders) == 0 {
				add(promote.RuleBuilder, true, "builder %s (the policy accepts any builder)", p.RunDetails.Builder.ID)
			} else {
				add(promote.RuleBuilder, true, "builder %s is allowed", p.RunDetails.Builder.ID)
			}
			switch {
			case repo == "":
				add(promote.RuleSource, true, "no source repository named (the policy accepts any)")
			case len(pp.SourceRepositories) == 0:
				add(promote.RuleSource, true, "source %s (the policy accepts any repository)", repo)
			default:
				add(promote.RuleSource, true, "source %s is allowed", repo)
			}
			return
		}
		if !okBuilder {
			builders = append(builders, p.RunDetails.Builder.ID)
		}
		if !okRepo {
			repos = append(repos, repo)
		}
	}
	if len(builders) > 0 {
		add(promote.RuleBuilder, false, "builder %s is not one of %s", strings.Join(builders, ", "), strings.Join(pp.Builders, ", "))
	}
	if len(repos) > 0 {
		add(promote.RuleSource, false, "source %q is not one of %s", strings.Join(repos, ", "), strings.Join(pp.SourceRepositories, ", "))
	}
}

func matchRepo(patterns []string, repo string) bool {
	if repo == "" {
		return false
	}
	norm := make([]string, len(patterns))
	for i, p := range patterns {
		star := strings.HasSuffix(p, "*")
		norm[i] = promote.NormalizeRepository(strings.TrimSuffix(p, "*"))
		if star {
			norm[i] += "*"
		}
	}
	return promote.Match(norm, repo)
}

// scan runs Trivy over every platform of the image against the gate.
func (e *Evaluator) scan(ctx context.Context, desc *remote.Descriptor, sp promote.ScanPolicy) (bool, string, []string, error) {
	var idx v1.ImageIndex
	if desc.MediaType.IsIndex() {
		i, err := desc.ImageIndex()
		if err != nil {
			return false, "", nil, err
		}
		idx = i
	} else {
		img, err := desc.Image()
		if err != nil {
			return false, "", nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return false, "", nil, err
		}
		idx = mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: cf.Platform()}})
	}
	gate := scan.Gate{Severities: sp.Severities, AnyFix: sp.AnyFix}
	for _, ig := range sp.Ignore {
		t, err := expiry.Parse(ig.Expires)
		if err != nil {
			return false, "", nil, fmt.Errorf("scan.ignore %s: %w", ig.ID, err)
		}
		gate.Ignore = append(gate.Ignore, scan.Ignore{ID: ig.ID, Reason: ig.Reason, Expires: t})
	}
	// A scan that could not run refuses the rule with the same words the
	// golden path's scan step fails with (scan.IncompleteError).
	rep, err := scan.Run(ctx, scan.Input{Index: idx}, scan.Options{DBDir: e.VulnDB, Gate: gate})
	var ge *scan.GateError
	var ie *scan.IncompleteError
	switch {
	case errors.As(err, &ie), errors.As(err, &ge):
		return false, strings.ReplaceAll(err.Error(), "\n", "; "), rep.Warnings, nil
	case err != nil:
		return false, "", nil, fmt.Errorf("scan: %w", err)
	case rep.Status != scan.Scanned:
		return false, rep.Status, rep.Warnings, nil
	}
	return true, fmt.Sprintf("%s; %s: %s", rep.Gate.Rule, strings.Join(rep.Scanners, ", "), counts(rep.Counts)), rep.Warnings, nil
}

func counts(c map[string]int) string {
	var parts []string
	for _, s := range scan.Severities {
		parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
	}
	return strings.Join(parts, ", ")
}
