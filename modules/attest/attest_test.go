package attest

import (
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/pavedhq/paved/internal/testtools"

	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"

	"github.com/pavedhq/paved/modules/sign"
)

func TestProvenanceJSON(t *testing.T) {
	ref, err := name.NewDigest("registry.example.test/team/svc@sha256:" + strings.Repeat("a", 64))
	if err != nil {
		t.Fatal(err)
	}
	st, err := Provenance(subjectOf(t, ref), sampleProvenance())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	pred := got["predicate"].(map[string]any)
	bd := pred["buildDefinition"].(map[string]any)
	rd := pred["runDetails"].(map[string]any)
	checks := map[string]any{
		"_type":          got["_type"],
		"predicateType":  got["predicateType"],
		"subject.sha256": got["subject"].([]any)[0].(map[string]any)["digest"].(map[string]any)["sha256"],
		"buildType":      bd["buildType"],
		"platforms":      bd["externalParameters"].(map[string]any)["platforms"].([]any)[1],
		"dep0.gitCommit": bd["resolvedDependencies"].([]any)[0].(map[string]any)["digest"].(map[string]any)["gitCommit"],
		"builder.id":     rd["builder"].(map[string]any)["id"],
		"startedOn":      rd["metadata"].(map[string]any)["startedOn"],
		"finishedOn":     rd["metadata"].(map[string]any)["finishedOn"],
	}
	want := map[string]any{
		"_type":          "https://in-toto.io/Statement/v1",
		"predicateType":  "https://slsa.dev/provenance/v1",
		"subject.sha256": strings.Repeat("a", 64),
		"buildType":      "https://github.com/pavedhq/paved/buildtypes/go-service@v1",
		"platforms":      "linux/arm64",
		"dep0.gitCommit": "0123456789abcdef0123456789abcdef01234567",
		"builder.id":     "https://github.com/pavedhq/paved/builders/local@v1",
		"startedOn":      "2026-01-02T03:04:05Z",
		"finishedOn":     "2026-01-02T03:05:35Z",
	}
	for k, w := range want {
		if checks[k] != w {
			t.Errorf("%s = %v, want %v", k, checks[k], w)
		}
	}
	// Same input, same bytes: provenance must not vary run to run.
	st2, _ := Provenance(subjectOf(t, ref), sampleProvenance())
	b2, _ := json.Marshal(st2)
	if string(b) != string(b2) {
		t.Error("provenance JSON differs between two identical calls")
	}
	// Round trip.
	var back Statement
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestProvenanceInvalid(t *testing.T) {
	ref, _ := name.NewDigest("registry.example.test/team/svc@sha256:" + strings.Repeat("a", 64))
	for name, mod := range map[string]func(*ProvenanceInput){
		"no builder id":  func(in *ProvenanceInput) { in.BuilderID = "" },
		"no build type":  func(in *ProvenanceInput) { in.BuildType = "" },
		"no external":    func(in *ProvenanceInput) { in.External = nil },
		"dep without id": func(in *ProvenanceInput) { in.Dependencies = append(in.Dependencies, Dependency{}) },
	} {
		in := sampleProvenance()
		mod(&in)
		if _, err := Provenance(subjectOf(t, ref), in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := Provenance(nil, sampleProvenance()); err == nil {
		t.Error("no subject: accepted")
	}
	if _, err := Predicate(subjectOf(t, ref), SPDX, json.RawMessage(`[1]`)); err == nil {
		t.Error("array predicate: accepted")
	}
	if _, err := Predicate(subjectOf(t, ref), "", json.RawMessage(`{}`)); err == nil {
		t.Error("no predicate type: accepted")
	}
}

func TestAttachAndVerify(t *testing.T) {
	ctx := context.Background()
	host := newRegistry(t)
	ref := pushIndex(t, host)
	kp := newKeyPair(t, "pw")
	s := loadKey(t, kp)

	prov, err := Provenance(subjectOf(t, ref), sampleProvenance())
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := Predicate(subjectOf(t, ref), SPDX, json.RawMessage(spdxDoc))
	if err != nil {
		t.Fatal(err)
	}
	var atts []Attestation
	for _, st := range []*Statement{prov, sbom} {
		a, err := Attach(ctx, ref, st, s)
		if err != nil {
			t.Fatal(err)
		}
		if a.PredicateType != st.PredicateType || a.Subject != ref.DigestStr() || !strings.HasPrefix(a.Digest, "sha256:") {
			t.Errorf("Attach = %+v", a)
		}
		atts = append(atts, a)
	}
	// Attaching again with the same key adds nothing.
	if again, err := Attach(ctx, ref, prov, s); err != nil {
		t.Fatal(err)
	} else if again != atts[0] {
		t.Errorf("re-attaching returned %+v, want the stored %+v", again, atts[0])
	}
	if n := attLayers(t, ref); n != 2 {
		t.Errorf("%d attestations stored, want 2", n)
	}

	p := sign.Policy{Key: kp.Pub}
	for _, st := range []*Statement{prov, sbom} {
		got, err := Verify(ctx, ref, st.PredicateType, p)
		if err != nil {
			t.Fatalf("Verify %s: %v", st.PredicateType, err)
		}
		if len(got) != 1 {
			t.Fatalf("Verify %s: %d statements, want 1", st.PredicateType, len(got))
		}
		a, _ := json.Marshal(got[0])
		b, _ := json.Marshal(st)
		if string(a) != string(b) {
			t.Errorf("Verify %s returned\n%s\nwant\n%s", st.PredicateType, a, b)
		}
		if got[0].Subject[0].Digest.String() != ref.DigestStr() {
			t.Errorf("subject %s, want the index digest %s", got[0].Subject[0].Digest, ref.DigestStr())
		}
	}
	if all, err := Verify(ctx, ref, "", p); err != nil || len(all) != 2 {
		t.Errorf("Verify all types: %d statements, %v", len(all), err)
	}
	if _, err := Verify(ctx, ref, CycloneDX, p); err == nil {
		t.Error("Verify of an absent predicate type succeeded")
	}
	if _, err := Verify(ctx, ref, SLSAProvenance, sign.Policy{Key: newKeyPair(t, "x").Pub}); err == nil {
		t.Error("Verify with another key succeeded")
	}

	// A statement about another image is refused.
	other := pushIndex(t, host)
	if _, err := Attach(ctx, other, prov, s); err == nil {
		t.Error("Attach of a statement about another digest succeeded")
	}
}

func TestAttachKeyless(t *testing.T) {
	ctx := context.Background()
	f := testtools.NewSigstore(t)
	host := newRegistry(t)
	ref := pushIndex(t, host)
	s, err := sign.Keyless(ctx, sign.KeylessOptions{FulcioURL: f.FulcioURL, RekorURL: f.RekorURL, TrustedRoot: f.TrustedRoot, IDToken: f.Token("ci@example.test")})
	if err != nil {
		t.Fatal(err)
	}
	prov, _ := Provenance(subjectOf(t, ref), sampleProvenance())
	if _, err := Attach(ctx, ref, prov, s); err != nil {
		t.Fatal(err)
	}
	p := sign.Policy{Issuer: f.Issuer, Identity: "ci@example.test", TrustedRoot: f.TrustedRoot}
	if _, err := Verify(ctx, ref, SLSAProvenance, p); err != nil {
		t.Fatal(err)
	}
	p.Identity = "someone@example.test"
	if _, err := Verify(ctx, ref, SLSAProvenance, p); err == nil {
		t.Error("Verify with another identity succeeded")
	}
}

func attLayers(t *testing.T, ref name.Digest) int {
	t.Helper()
	tag, err := ociremote.AttestationTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(tag)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if l.MediaType != "application/vnd.dsse.envelope.v1+json" || l.Annotations["predicateType"] == "" {
			t.Errorf("attestation layer %s: media type %s, annotations %v", l.Digest, l.MediaType, l.Annotations)
		}
	}
	return len(m.Layers)
}
