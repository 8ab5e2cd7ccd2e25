package verify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/internal/testtools/testkeys"
	"github.com/pavedhq/paved/internal/testtools/testregistry"
	"github.com/pavedhq/paved/modules/attest"
	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/modules/sign"
)

const commit = "0123456789abcdef0123456789abcdef01234567"

func newRegistry(t *testing.T) string { return testregistry.New(t) }

func pushIndex(t *testing.T, repo string) name.Digest {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	ref, err := name.NewDigest(repo + "@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

// signAndAttest does what the go-service golden path does to an image:
// signatures, SLSA provenance, an SPDX SBOM attestation.
func signAndAttest(t *testing.T, ref name.Digest, kp testkeys.Pair, builder string) {
	t.Helper()
	ctx := context.Background()
	s, err := sign.LoadKey(ctx, kp.Priv, kp.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Index(ctx, ref, s); err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(ref.DigestStr())
	subject := []attest.Subject{{Name: ref.Context().String(), Digest: h}}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	prov, err := attest.Provenance(subject, attest.ProvenanceInput{
		BuilderID: builder,
		BuildType: "https://github.com/pavedhq/paved/buildtypes/go-service@v1",
		External:  map[string]any{"source": map[string]any{"repository": "https://github.com/acme/api", "ref": "refs/heads/main"}},
		Dependencies: []attest.Dependency{{Name: "source", URI: "git+https://github.com/acme/api@refs/heads/main",
			Digest: map[string]string{"gitCommit": commit}}},
		InvocationID: "run-1", StartedOn: now, FinishedOn: now.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Attach(ctx, ref, prov, s); err != nil {
		t.Fatal(err)
	}
	st, err := attest.Predicate(subject, attest.SPDX, json.RawMessage(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"api"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Attach(ctx, ref, st, s); err != nil {
		t.Fatal(err)
	}
}

func noScan(p promote.Policy) promote.Policy {
	off := false
	p.Scan.Required = &off
	return p.WithDefaults()
}

func verdicts(ev *promote.Evaluation) map[promote.Rule]promote.Verdict {
	m := map[promote.Rule]promote.Verdict{}
	for _, v := range ev.Verdicts {
		m[v.Rule] = v
	}
	return m
}

func TestEvaluate(t *testing.T) {
	host := newRegistry(t)
	kp, other := testkeys.New(t, "pw"), testkeys.New(t, "pw2")
	signed := pushIndex(t, host+"/staging/api")
	signAndAttest(t, signed, kp, "https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main")
	unsigned := pushIndex(t, host+"/staging/api")
	ev := &Evaluator{}
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		ref    name.Digest
		policy promote.Policy
		failed map[promote.Rule]string // rule → words its detail must contain
	}{
		{name: "all pass", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}},
			Provenance: promote.ProvenancePolicy{Builders: []string{"https://github.com/acme/api/.github/workflows/release.yml@*"},
				SourceRepositories: []string{"https://github.com/acme/api.git"}}}},
		{name: "another key", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: other.Pub}}},
			failed: map[promote.Rule]string{promote.RuleSignature: "no signature by an allowed signer", promote.RuleProvenance: "no SLSA provenance", promote.RuleSBOM: "no signed SBOM"}},
		{name: "either key", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: other.Pub}, {Key: kp.Pub}}}},
		{name: "unsigned", ref: unsigned, policy: promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}}},
			failed: map[promote.Rule]string{promote.RuleSignature: "no signature", promote.RuleProvenance: "no SLSA provenance", promote.RuleSBOM: "no signed SBOM"}},
		{name: "no signer", ref: signed, policy: promote.Policy{},
			failed: map[promote.Rule]string{promote.RuleSignature: "names no signer", promote.RuleProvenance: "", promote.RuleSBOM: ""}},
		{name: "disallowed builder", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}},
			Provenance: promote.ProvenancePolicy{Builders: []string{"https://github.com/acme/api/.github/workflows/deploy.yml@*"}}},
			failed: map[promote.Rule]string{promote.RuleBuilder: "release.yml@refs/heads/main is not one of"}},
		{name: "other repository", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}},
			Provenance: promote.ProvenancePolicy{SourceRepositories: []string{"https://github.com/acme/web"}}},
			failed: map[promote.Rule]string{promote.RuleSource: "https://github.com/acme/api"}},
		{name: "CycloneDX required", ref: signed, policy: promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}},
			SBOM: promote.SBOMPolicy{Formats: []string{"cyclonedx"}}},
			failed: map[promote.Rule]string{promote.RuleSBOM: "no signed cyclonedx SBOM"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ev.Evaluate(ctx, tc.ref, noScan(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			vs := verdicts(got)
			for _, r := range []promote.Rule{promote.RuleSignature, promote.RuleProvenance, promote.RuleSBOM} {
				if _, ok := vs[r]; !ok {
					t.Errorf("no verdict for %s: %+v", r, got.Verdicts)
				}
			}
			for _, v := range got.Verdicts {
				words, shouldFail := tc.failed[v.Rule]
				if v.Passed == shouldFail {
					t.Errorf("%s", v)
				}
				if shouldFail && !strings.Contains(v.Detail, words) {
					t.Errorf("%s: want the detail to say %q", v, words)
				}
			}
			for r := range tc.failed {
				if _, ok := vs[r]; !ok {
					t.Errorf("no verdict for %s", r)
				}
			}
			if len(tc.failed) == 0 {
				if p := got.Provenance; p == nil || p.Commit != commit || p.Repository != "https://github.com/acme/api" {
					t.Errorf("provenance summary %+v", got.Provenance)
				}
			}
		})
	}

	t.Run("scan without a database fails the rule", func(t *testing.T) {
		p := promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}}}.WithDefaults()
		got, err := (&Evaluator{VulnDB: t.TempDir()}).Evaluate(ctx, signed, p)
		if err != nil {
			t.Fatal(err)
		}
		if v := verdicts(got)[promote.RuleScan]; v.Passed || !strings.Contains(v.Detail, "not scanned: trivy: no Trivy vulnerability database in ") {
			t.Errorf("scan verdict %s", v)
		}
	})
	t.Run("missing image is an error", func(t *testing.T) {
		missing, _ := name.NewDigest(host + "/staging/api@sha256:" + strings.Repeat("0", 64))
		if _, err := ev.Evaluate(ctx, missing, noScan(promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}}})); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestPromote promotes between two in-process registries with the real
// evaluator: the destination verifies, tags are set, the deployment names
// the commit; a refused image writes nothing.
func TestPromote(t *testing.T) {
	src, dst := newRegistry(t), newRegistry(t)
	kp := testkeys.New(t, "pw")
	ref := pushIndex(t, src+"/staging/api")
	signAndAttest(t, ref, kp, "https://builder.example/v1")
	policy := noScan(promote.Policy{Signers: []promote.Signer{{Key: kp.Pub}}, Environment: "production"})
	ctx := context.Background()

	res, err := promote.Promote(ctx, promote.Request{From: ref.String(), To: dst + "/prod/api", Tags: []string{"v1"}, Policy: policy}, &Evaluator{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "promoted" || res.Destination != dst+"/prod/api@"+ref.DigestStr() {
		t.Fatalf("result %+v", res)
	}
	if _, err := sign.Verify(ctx, mustDigest(t, res.Destination), sign.Policy{Key: kp.Pub}); err != nil {
		t.Errorf("signature at the destination: %v", err)
	}
	if _, err := attest.Verify(ctx, mustDigest(t, res.Destination), attest.SLSAProvenance, sign.Policy{Key: kp.Pub}); err != nil {
		t.Errorf("provenance at the destination: %v", err)
	}
	desc, err := remote.Head(mustTag(t, dst+"/prod/api:v1"))
	if err != nil || desc.Digest.String() != ref.DigestStr() {
		t.Errorf("tag v1: %v, %v", desc, err)
	}
	d := res.Deployment
	if d == nil || d.Environment != "production" || d.Service != "api" || d.Commit != commit || len(d.Commits) != 1 ||
		!strings.HasPrefix(d.Artifact, "pkg:oci/api@sha256:") {
		t.Errorf("deployment %+v", d)
	}

	t.Run("refused writes nothing", func(t *testing.T) {
		other := testkeys.New(t, "x")
		p := policy
		p.Signers = []promote.Signer{{Key: other.Pub}}
		res, err := promote.Promote(ctx, promote.Request{From: ref.String(), To: dst + "/refused/api", Tags: []string{"v1"}, Policy: p}, &Evaluator{})
		var re *promote.RefusedError
		if !errorsAs(err, &re) || res.Status != "refused" || !strings.Contains(err.Error(), "rule signature") {
			t.Fatalf("err %v, status %s", err, res.Status)
		}
		repo, _ := name.NewRepository(dst + "/refused/api")
		if tags, err := remote.List(repo); err == nil && len(tags) > 0 {
			t.Errorf("destination has tags %v", tags)
		}
		if _, err := remote.Head(repo.Digest(ref.DigestStr())); err == nil {
			t.Error("the refused image reached the destination")
		}
	})
}

func mustDigest(t *testing.T, s string) name.Digest {
	t.Helper()
	d, err := name.NewDigest(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	d, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
