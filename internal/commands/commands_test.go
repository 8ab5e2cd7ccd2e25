package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// The commands are tested with a stand-in path that only prepares: real
// paths live in pipelines/goservice and are tested end to end in tests/.
// The stand-in's one step records the environment it runs in, as go test
// would inherit it, and the path records the options it was given.
var (
	standInMu      sync.Mutex
	standInEnv     []string
	standInOptions pipelines.Options
)

func init() {
	prepareOnly := func(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
		r, err := pipelines.Prepare(ctx, "stand-in", o)
		if err != nil {
			return nil, err
		}
		standInMu.Lock()
		standInOptions, standInEnv = o, nil
		standInMu.Unlock()
		r.Graph = &runner.Graph{}
		r.Graph.Add(envStep{})
		return r, nil
	}
	for _, n := range []string{"go-service", "go-build", "go-test"} {
		pipelines.Register(n, prepareOnly, n == "go-service")
	}
	pipelines.Register("picked-by-config", func(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
		r, err := pipelines.Prepare(ctx, "picked-by-config", o)
		if err != nil {
			return nil, err
		}
		r.Graph = &runner.Graph{}
		return r, nil
	}, false)
}

func pavedCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := New("v1.2.3", &out, &errb)
	c.SetArgs(args)
	err = c.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := pavedCmd(t, "version")
	if err != nil || out != "v1.2.3\n" {
		t.Fatalf("version: %q, %v", out, err)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	src := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--source", src}, "set path: in " + src + "/paved.yaml"},
		{[]string{"run", "go-service", "go-test"}, "takes 1 argument"},
		{[]string{"run", "nope"}, `unknown pipeline "nope"`},
		{[]string{"run", "go-service", "--nope"}, "--nope"},
		{[]string{"build", "--source", src, "--platform", "plan9"}, "--platform"},
		{[]string{"test", "--source", src, "--coverage", "101"}, "--coverage"},
		{[]string{"test", "--source", src, "--report", "/does/not/exist/r.json"}, "--report"},
		{[]string{"test", "--source", src + "/missing"}, "--source"},
		{[]string{"deploy"}, "unknown command"},
		{[]string{"test", "--source", src, "--cache-max-size", "10M"}, "--cache-max-size"},
		{[]string{"cache", "prune", "--max-size", "lots"}, "--max-size"},
		{[]string{"cache", "prune", "--max-age", "2w"}, "--max-age"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := pavedCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != ExitUsage {
				t.Fatalf("err = %v (exit %d), want exit 2 naming %q", err, ExitCode(err), tc.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&UsageError{Err: errors.New("x")}, ExitUsage},
		{fmt.Errorf("wrapped: %w", &pipelines.ConfigError{Field: "f"}), ExitUsage},
		{&runner.StepError{Step: "test", Err: errors.New("red")}, ExitFailed},
		{errors.Join(&runner.StepError{Step: "build", Err: context.Canceled}), ExitInterrupted},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

type envStep struct{}

func (envStep) Name() string { return "env" }
func (envStep) Run(context.Context, runner.Inputs) (*runner.Result, error) {
	standInMu.Lock()
	defer standInMu.Unlock()
	standInEnv = os.Environ()
	return &runner.Result{}, nil
}

var signingSecrets = map[string]string{
	"COSIGN_PASSWORD": "pw-Zq81", "SIGSTORE_ID_TOKEN": "tok-Zq81",
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req-Zq81", "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/req-Zq81",
}

// TestEveryCommandTakesSigningSecrets: whatever the command, and whether it
// signs or not, the steps (go test runs the service's own code) never see
// the signing secrets in their environment.
func TestEveryCommandTakesSigningSecrets(t *testing.T) {
	for _, args := range [][]string{{"test"}, {"build"}, {"run", "go-service"}, {"run", "go-service", "--key", "cosign.key"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			for k, v := range signingSecrets {
				t.Setenv(k, v)
			}
			_, stderr, err := pavedCmd(t, append(args, "--source", t.TempDir(), "--no-cache")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			standInMu.Lock()
			env, opts := standInEnv, standInOptions
			standInMu.Unlock()
			if env == nil {
				t.Fatal("the step did not run")
			}
			for _, kv := range env {
				for k, v := range signingSecrets {
					if strings.HasPrefix(kv, k+"=") || strings.Contains(kv, v) {
						t.Errorf("the step's environment holds %s", k)
					}
				}
			}
			if slices.Contains(args, "--key") && string(opts.Signing.Password) != signingSecrets["COSIGN_PASSWORD"] {
				t.Errorf("the signing options lost the key's password")
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v", opts.Signing, opts.Signing, opts.Signing), "pw-Zq81") {
				t.Error("formatting Signing shows the password")
			}
		})
	}
}

// TestKeylessFetchesTheTokenWhenSigning: --keyless locates the token at
// start-up (a missing one is a usage error) but asks GitHub Actions' token
// service for it only when the sign step calls the source, so a long test
// and build cannot outlive it.
func TestKeylessFetchesTheTokenWhenSigning(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer req-Zq81" || r.URL.Query().Get("audience") != "sigstore" {
			http.Error(w, "wrong request", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"value":"oidc-Zq81"}`)
	}))
	defer srv.Close()
	t.Setenv("SIGSTORE_ID_TOKEN", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/token")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "req-Zq81")
	_, stderr, err := pavedCmd(t, "run", "go-service", "--source", t.TempDir(), "--no-cache", "--keyless")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("the token was requested %d times before any signing step ran", n)
	}
	standInMu.Lock()
	src := standInOptions.Signing.IDToken
	standInMu.Unlock()
	if src == nil {
		t.Fatal("no token source in the signing options")
	}
	// The variables are gone from the environment; the source kept them.
	tok, err := src(context.Background())
	if err != nil || tok != "oidc-Zq81" || requests.Load() != 1 {
		t.Fatalf("token %q, %v after %d requests", tok, err, requests.Load())
	}
}

func TestKeylessWithoutTokenIsAUsageError(t *testing.T) {
	t.Setenv("SIGSTORE_ID_TOKEN", "")
	t.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "")
	_, _, err := pavedCmd(t, "run", "go-service", "--source", t.TempDir(), "--keyless")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--keyless") {
		t.Fatalf("err = %v", err)
	}
	_, _, err = pavedCmd(t, "run", "go-service", "--source", t.TempDir(), "--keyless", "--key", "k")
	if ExitCode(err) != ExitUsage {
		t.Fatalf("--key with --keyless: %v", err)
	}
}

func TestCachePrunePrintsWhatItFreed(t *testing.T) {
	dir := t.TempDir()
	c, err := runner.NewCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A real entry, stored by a run.
	var g runner.Graph
	g.Add(blobStep{})
	o, err := (&runner.Runner{Cache: c, WorkDir: t.TempDir()}).Run(context.Background(), &g)
	if err != nil || o.Err != nil {
		t.Fatal(err, o.Err)
	}
	o.Close()

	out, _, err := pavedCmd(t, "cache", "prune", "--cache-dir", dir, "--max-size", "10KB")
	if err != nil || !strings.Contains(out, "freed 0 B (0 entries)") {
		t.Fatalf("within the bound: %q, %v", out, err)
	}
	out, _, err = pavedCmd(t, "cache", "prune", "--cache-dir", dir, "--max-size", "1KB")
	if err != nil || !strings.Contains(out, "freed 2.0 KiB (1 entries)") || !strings.Contains(out, "0 entries, 0 B left") {
		t.Fatalf("over the bound: %q, %v", out, err)
	}
}

func TestCacheMaxSizeFromEnvironment(t *testing.T) {
	t.Setenv(CacheMaxSizeEnv, "lots")
	_, _, err := pavedCmd(t, "test", "--source", t.TempDir())
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), CacheMaxSizeEnv) {
		t.Fatalf("err = %v, want a usage error naming %s", err, CacheMaxSizeEnv)
	}
}

// blobStep stores 2 KiB under a fixed key.
type blobStep struct{}

func (blobStep) Name() string                                       { return "blob" }
func (blobStep) Key(context.Context, runner.Inputs) (string, error) { return "k", nil }
func (blobStep) Run(_ context.Context, in runner.Inputs) (*runner.Result, error) {
	if err := os.WriteFile(filepath.Join(in.OutDir, "blob"), make([]byte, 2048), 0o644); err != nil {
		return nil, err
	}
	return runner.NewResult("blob", "")
}

// TestRunPicksThePathFromConfig: with no PIPELINE, paved.yaml's path:
// names it, and the report carries the team and service.
func TestRunPicksThePathFromConfig(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "paved.yaml"), []byte("team: payments\nservice: api\npath: picked-by-config\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := pavedCmd(t, "run", "--source", src, "--json", "--no-cache")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	var rep runner.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if rep.Pipeline != "picked-by-config" || rep.Team != "payments" || rep.Service != "api" {
		t.Errorf("pipeline %q, team %q, service %q; want picked-by-config, payments, api", rep.Pipeline, rep.Team, rep.Service)
	}
	// A pipeline named on the command line wins over paved.yaml's.
	out, _, err = pavedCmd(t, "run", "go-service", "--source", src, "--json", "--no-cache")
	if err != nil || !strings.Contains(out, `"pipeline": "stand-in"`) {
		t.Errorf("run go-service: %v\n%s", err, out)
	}
}

// TestServiceSignerIsTheDefault: sign.identity and sign.issuer in the
// service's paved.yaml are the signer verify and promote accept when
// nothing else names one, and never widen a policy that does.
func TestServiceSignerIsTheDefault(t *testing.T) {
	src := t.TempDir()
	const id, iss = "https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main", "https://token.actions.githubusercontent.com"
	os.WriteFile(filepath.Join(src, "paved.yaml"), []byte("sign:\n  identity: "+id+"\n  issuer: "+iss+"\n"), 0o644)

	var f policyFlags
	p, err := f.policy(src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]promote.Signer{{Issuer: iss, Identity: id}}, p.Signers); diff != "" {
		t.Errorf("signers (-want +got):\n%s", diff)
	}
	f.keys = []string{"cosign.pub"}
	if p, err = f.policy(src); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]promote.Signer{{Key: "cosign.pub"}}, p.Signers); diff != "" {
		t.Errorf("a flag's signer: (-want +got):\n%s", diff)
	}

	// No signer anywhere is still bad usage, and says where one can go.
	_, err = (&policyFlags{}).policy(t.TempDir())
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "sign.identity and sign.issuer") {
		t.Errorf("no signer: %v", err)
	}
	_, _, err = pavedCmd(t, "verify", "localhost:5000/a@sha256:"+strings.Repeat("0", 64), "--source", t.TempDir())
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "sign.identity and sign.issuer") {
		t.Errorf("verify with no signer: %v", err)
	}
	// A broken paved.yaml is named.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "paved.yaml"), []byte("sign:\n  identity: x\n"), 0o644)
	if _, err := (&policyFlags{}).policy(bad); ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "sign") {
		t.Errorf("identity without issuer: %v", err)
	}
}
