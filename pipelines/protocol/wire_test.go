package protocol

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pavedhq/paved/modules/promote"
)

// recorder is an Executor that records what reached it: the wire is under
// test here, not the steps (the in-process executor runs them for real in
// the example's test).
type recorder struct{ got any }

func (r *recorder) Identity(context.Context) (string, error) { return "recorder", nil }
func (r *recorder) SBOM(_ context.Context, req SBOMRequest) (*Result[SBOMValue], error) {
	r.got = req
	return &Result[SBOMValue]{Value: SBOMValue{Documents: []SBOMDocument{{Format: "spdx-json"}}}, Summary: "1 document", Export: []string{"a.json"}}, nil
}
func (r *recorder) Scan(_ context.Context, req ScanRequest) (*Result[ScanValue], error) {
	r.got = req
	return &Result[ScanValue]{Value: ScanValue{Passed: false, Rule: "CRITICAL"}}, errors.New("gate failed")
}
func (r *recorder) Lint(_ context.Context, req LintRequest) (*Result[LintValue], error) {
	r.got = req
	return &Result[LintValue]{Value: LintValue{Passed: false}, Export: []string{LintSARIF}}, errors.New("lint gate failed")
}

func (r *recorder) Sign(_ context.Context, req SignRequest) (*Result[SignValue], error) {
	r.got = req
	return &Result[SignValue]{Value: SignValue{Ref: req.Publish.Ref}}, nil
}
func (r *recorder) Attest(_ context.Context, req AttestRequest) (*Result[AttestValue], error) {
	r.got = req
	return nil, errors.New("no key")
}
func (r *recorder) Evaluate(_ context.Context, req EvaluateRequest) (*promote.Evaluation, error) {
	r.got = req
	return &promote.Evaluation{Subject: req.Ref}, nil
}

// roundTrip sends req through the wire to a recorder, as paved and
// paved-worker do, and decodes the answer.
func roundTrip[V any, R Request](t *testing.T, req R, secrets Secrets) (*recorder, *V, []string, error) {
	t.Helper()
	c, env, err := NewCall(req)
	if err != nil {
		t.Fatal(err)
	}
	var in, out bytes.Buffer
	if err := json.NewEncoder(&in).Encode(c); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(in.String(), "s3cret") {
		t.Errorf("a secret is in the request: %s", in.String())
	}
	rec := &recorder{}
	if err := Serve(context.Background(), &in, &out, rec, secrets); err != nil {
		t.Fatal(err)
	}
	var a Answer
	if err := json.Unmarshal(out.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	var v V
	err = a.Decode(&v)
	if len(a.Result) == 0 {
		return rec, nil, env, err
	}
	return rec, &v, env, err
}

func TestWire(t *testing.T) {
	sbom := SBOMRequest{Config: SBOMConfig{Dir: "/src", Name: "svc"}, Build: Output[ImageValue]{Value: ImageValue{Digest: "sha256:ab"}, Dir: "/b"}, OutDir: "/o"}
	rec, res, _, err := roundTrip[Result[SBOMValue]](t, sbom, Secrets{})
	if err != nil || rec.got.(SBOMRequest).Build.Dir != "/b" || res.Summary != "1 document" || res.Export[0] != "a.json" {
		t.Errorf("sbom: got %+v, %+v, %v", rec.got, res, err)
	}

	_, scan, _, err := roundTrip[Result[ScanValue]](t, ScanRequest{}, Secrets{})
	if scan == nil || scan.Value.Rule != "CRITICAL" || err == nil || err.Error() != "gate failed" {
		t.Errorf("scan: a failed gate keeps its result and error: %+v, %v", scan, err)
	}

	rec, lint, _, err := roundTrip[Result[LintValue]](t, LintRequest{Config: LintConfig{Dir: "/src", Gosec: LintToolConfig{Severity: "MEDIUM"}}, OutDir: "/o"}, Secrets{})
	if lint == nil || lint.Export[0] != LintSARIF || err == nil || err.Error() != "lint gate failed" || rec.got.(LintRequest).Config.Gosec.Severity != "MEDIUM" {
		t.Errorf("lint: a failed gate keeps its result and error: %+v, %v", lint, err)
	}
	secrets := Secrets{Password: []byte("s3cret"), IDToken: "tok-s3cret"}
	rec, _, env, err := roundTrip[Result[SignValue]](t, SignRequest{Publish: PublishValue{Ref: "r@sha256:ab"}, Secrets: secrets}, secrets)
	if err != nil || string(rec.got.(SignRequest).Secrets.Password) != "s3cret" || rec.got.(SignRequest).Secrets.IDToken != "tok-s3cret" {
		t.Errorf("sign: secrets did not reach the executor: %v", err)
	}
	if strings.Join(env, " ") != "COSIGN_PASSWORD=s3cret SIGSTORE_ID_TOKEN=tok-s3cret" {
		t.Errorf("sign: environment %q", env)
	}

	_, att, _, err := roundTrip[Result[AttestValue]](t, AttestRequest{}, Secrets{})
	if att != nil || err == nil || err.Error() != "no key" {
		t.Errorf("attest: %+v, %v", att, err)
	}

	rec, ev, env, err := roundTrip[promote.Evaluation](t, EvaluateRequest{Ref: "r@sha256:ab", VulnDB: "/db"}, Secrets{})
	if err != nil || ev.Subject != "r@sha256:ab" || rec.got.(EvaluateRequest).VulnDB != "/db" || len(env) != 0 {
		t.Errorf("evaluate: %+v, %v, env %q", ev, err, env)
	}
}

func TestServeRejectsUnknownTask(t *testing.T) {
	in := strings.NewReader(`{"task":"sbomz","request":{}}`)
	if err := Serve(context.Background(), in, &bytes.Buffer{}, &recorder{}, Secrets{}); err == nil || !strings.Contains(err.Error(), "sbomz") {
		t.Errorf("err = %v", err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	s := Secrets{Password: []byte("s3cret"), IDToken: "s3cret"}
	for _, out := range []string{s.String(), s.GoString()} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("%q shows a secret", out)
		}
	}
}
