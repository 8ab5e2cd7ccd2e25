package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/modules/promote"
)

const sourceRepo = "https://github.com/acme/go-service"

// gitInit makes dir a git repository with one commit and an origin, as a
// service's checkout is, and returns the commit.
func gitInit(t *testing.T, dir string) string {
	t.Helper()
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "remote", "add", "origin", sourceRepo+".git")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "service")
	return git(t, dir, "rev-parse", "HEAD")
}

// destinationEmpty fails t when repo holds any tag or the digest.
func destinationEmpty(t *testing.T, repo, digest string) {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := remote.List(r); err == nil && len(tags) > 0 {
		t.Errorf("destination %s has tags %v", repo, tags)
	}
	if _, err := remote.Head(r.Digest(digest)); err == nil {
		t.Errorf("destination %s has %s", repo, digest)
	}
}

// TestPromotion promotes what the golden path published, with cosign
// checking the destination, and tries every way an image must be refused.
func TestPromotion(t *testing.T) {
	reg := registry(t) // first: where it is missing, the test ends before building cosign
	cosign := testtools.Cosign(t, testtools.CosignV3)
	key, pub := keyPair(t, cosign, keyPassword)
	_, otherPub := keyPair(t, cosign, "other")
	signEnv := []string{"COSIGN_PASSWORD=" + keyPassword}

	src := copyExample(t)
	commit := gitInit(t, src)
	runEvents := filepath.Join(t.TempDir(), "events.jsonl")
	r := paved(t, signEnv, "run", "go-service", "--source", src, "--image", reg+"/staging/svc", "--key", key, "--cache-dir", t.TempDir(),
		"--events", "file:"+runEvents)
	if r.code != 0 {
		t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
	}
	signed := r.lastLine()
	digest := signed[strings.Index(signed, "@")+1:]
	checkRunEvents(t, runEvents, digest)

	// Another build of the service, published and never signed.
	other := copyExample(t)
	replaceInFile(t, filepath.Join(other, "main.go"), `var version = "dev"`, `var version = "dev-unsigned"`)
	r = paved(t, nil, "build", "--source", other, "--image", reg+"/staging/unsigned", "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("paved build exited %d\n%s", r.code, r.stderr)
	}
	unsigned := r.lastLine()
	if strings.HasSuffix(unsigned, digest) {
		t.Fatal("the unsigned build has the signed build's digest")
	}

	insecure := []string{"--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry"}

	t.Run("promotes and verifies at the destination", func(t *testing.T) {
		deployments := filepath.Join(t.TempDir(), "deployments.jsonl")
		report := filepath.Join(t.TempDir(), "promotion.json")
		r := paved(t, nil, "promote", "--from", signed, "--to", reg+"/prod/svc", "--key", pub, "--vuln-db", demoDB,
			"--tag", "v1.0.0", "--deployments", deployments, "--report", report)
		if r.code != 0 {
			t.Fatalf("paved promote exited %d\n%s", r.code, r.stderr)
		}
		dest := r.lastLine()
		if dest != reg+"/prod/svc@"+digest {
			t.Fatalf("promoted to %q, want the same digest in prod/svc", dest)
		}
		for _, rule := range []string{"signature", "provenance", "provenance.builder", "provenance.source", "sbom", "scan"} {
			if !strings.Contains(r.stderr, rule) {
				t.Errorf("the output does not list rule %s:\n%s", rule, r.stderr)
			}
		}
		if out, err := cosignRun(t, cosign, append(append([]string{"verify"}, insecure...), dest)...); err != nil {
			t.Errorf("cosign verify at the destination: %v\n%s", err, out)
		}
		for _, typ := range []string{"slsaprovenance1", "spdxjson", "cyclonedx"} {
			if out, err := cosignRun(t, cosign, append(append([]string{"verify-attestation", "--type", typ}, insecure...), dest)...); err != nil {
				t.Errorf("cosign verify-attestation --type %s at the destination: %v\n%s", typ, err, out)
			}
		}
		tagged, err := remote.Head(mustRef(t, reg+"/prod/svc:v1.0.0"))
		if err != nil || tagged.Digest.String() != digest {
			t.Errorf("tag v1.0.0: %v %v", tagged, err)
		}
		idx, err := remote.Index(mustRef(t, dest))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(idx); err != nil {
			t.Errorf("the promoted index is not whole: %v", err)
		}

		recs := readDeployments(t, deployments)
		if len(recs) != 1 {
			t.Fatalf("%d deployment events in %s, want 1", len(recs), deployments)
		}
		d := recs[0]
		if d.Environment != "production" || d.Service != "svc" || d.Digest != digest || d.Commit != commit ||
			d.Repository != sourceRepo || len(d.Commits) == 0 || d.Commits[0].SHA != commit || !strings.HasPrefix(d.Artifact, "pkg:oci/svc@"+digest) {
			t.Errorf("deployment %+v", d)
		}
		var res promote.Result
		if b, err := os.ReadFile(report); err != nil || json.Unmarshal(b, &res) != nil || res.Status != "promoted" || res.Copied == nil || len(res.Copied.Artifacts) < 5 {
			t.Errorf("report: %+v (%v)", res, err)
		}

		// Promoting again is harmless and lands on the same digest.
		r = paved(t, nil, "promote", "--from", signed, "--to", reg+"/prod/svc", "--key", pub, "--vuln-db", demoDB, "--deployments", deployments)
		if r.code != 0 || r.lastLine() != dest {
			t.Fatalf("second promotion: exit %d, %q\n%s", r.code, r.lastLine(), r.stderr)
		}
	})

	t.Run("policy check lists each rule", func(t *testing.T) {
		r := paved(t, nil, "policy", "check", signed, "--key", pub, "--vuln-db", demoDB)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		for _, rule := range []string{"signature", "provenance", "sbom", "scan"} {
			if !strings.Contains(r.stdout, rule) || strings.Contains(r.stdout, "failed") {
				t.Errorf("rule %s:\n%s", rule, r.stdout)
			}
		}
		r = paved(t, nil, "policy", "check", unsigned, "--key", pub, "--vuln-db", demoDB)
		if r.code != 1 || !strings.Contains(r.stdout, "signature          failed") || !strings.Contains(r.stdout, "scan               passed") {
			t.Fatalf("unsigned: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("verify", func(t *testing.T) {
		r := paved(t, nil, "verify", signed, "--key", pub, "--type", "slsaprovenance1", "--type", "spdxjson", "--type", "cyclonedx")
		if r.code != 0 {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := paved(t, nil, "verify", signed, "--key", otherPub); r.code != 1 || !strings.Contains(r.stderr, "rule signature") {
			t.Fatalf("another key: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := paved(t, nil, "verify", signed); r.code != 2 {
			t.Fatalf("no key: exit %d, want 2\n%s", r.code, r.stderr)
		}
	})

	// Each refusal names its rule, exits 1 and leaves its destination empty.
	refusals := []struct {
		name, from, rule string
		args             []string
		setup            func(t *testing.T) []string
	}{
		{name: "unsigned", from: unsigned, rule: "rule signature", args: []string{"--key", pub}},
		{name: "another key", from: signed, rule: "rule signature", args: []string{"--key", otherPub}},
		{name: "provenance missing", rule: "rule provenance:", args: []string{"--key", pub}, setup: func(t *testing.T) []string {
			// Signed with the allowed key by plain cosign: a signature, no
			// provenance and no SBOM.
			out, err := testtools.Run(t, append(testtools.CosignEnv(t), signEnv...), cosign, "sign", "--key", key, "--tlog-upload=false",
				"--use-signing-config=false", "--allow-insecure-registry", "--allow-http-registry", "-y", unsigned)
			if err != nil {
				t.Fatalf("cosign sign: %v\n%s", err, out)
			}
			return []string{unsigned}
		}},
		{name: "disallowed builder", from: signed, rule: "rule provenance.builder", setup: func(t *testing.T) []string {
			policy := filepath.Join(t.TempDir(), "policy.yaml")
			os.WriteFile(policy, []byte("signers:\n  - key: "+pub+"\nprovenance:\n  builders: [\"https://github.com/acme/go-service/.github/workflows/release.yml@*\"]\n"), 0o644)
			return []string{"--policy", policy}
		}},
		{name: "tag moved after signing", rule: "rule reference", args: []string{"--key", pub}, setup: func(t *testing.T) []string {
			// v2 was the signed image, then someone pointed it elsewhere.
			tag := mustRef(t, reg+"/staging/svc:v2").(name.Tag)
			moved, err := remote.Index(mustRef(t, unsigned))
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.WriteIndex(tag, moved); err != nil {
				t.Fatal(err)
			}
			return []string{reg + "/staging/svc:v2@" + digest}
		}},
		{name: "scan gate", from: signed, rule: "rule scan", args: []string{"--key", pub}, setup: func(t *testing.T) []string {
			return []string{"--vuln-db", vulnDB(t, true)}
		}},
	}
	for i, tc := range refusals {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			args := tc.args
			from := tc.from
			if tc.setup != nil {
				extra := tc.setup(t)
				if from == "" {
					from, extra = extra[0], extra[1:]
				}
				args = append(args, extra...)
			}
			dest := reg + "/refused" + string(rune('a'+i)) + "/svc"
			if !contains(args, "--vuln-db") {
				args = append(args, "--vuln-db", demoDB)
			}
			r := paved(t, nil, append([]string{"promote", "--from", from, "--to", dest, "--tag", "latest"}, args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.rule) {
				t.Fatalf("exit %d, want 1 naming %q:\n%s", r.code, tc.rule, r.stderr)
			}
			destinationEmpty(t, dest, from[strings.Index(from, "@")+1:])
		})
	}

	t.Run("bad usage exits 2", func(t *testing.T) {
		badPolicy := filepath.Join(t.TempDir(), "policy.yaml")
		os.WriteFile(badPolicy, []byte("signers:\n  - key: k.pub\nprovenance:\n  builder: x\n"), 0o644)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"promote", "--to", reg + "/prod/x", "--key", pub}, "--from"},
			{[]string{"promote", "--from", signed, "--to", reg + "/prod/x"}, "no allowed signer"},
			{[]string{"promote", "--from", signed, "--to", reg + "/prod/x", "--policy", badPolicy}, "provenance.builder"},
			{[]string{"promote", "--from", signed, "--to", reg + "/prod/x", "--policy", "/nonexistent/policy.yaml"}, "policy.yaml"},
			{[]string{"promote", "--from", "not a ref", "--to", reg + "/prod/x", "--key", pub}, "--from"},
			{[]string{"promote", "--from", signed, "--to", "UPPER/case", "--key", pub}, "--to"},
			{[]string{"promote", "--from", signed, "--to", reg + "/prod/x", "--key", pub, "--gitops", "."}, "--overlay"},
		} {
			r := paved(t, nil, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v: exit %d, want 2 naming %q:\n%s", tc.args, r.code, tc.want, r.stderr)
			}
		}
	})
}

func contains(args []string, s string) bool {
	for _, a := range args {
		if a == s {
			return true
		}
	}
	return false
}

// faultyProxy forwards to the registry at reg but, counting requests,
// answers every ninth with 503, holds every thirteenth for a while and then
// answers 504 as a load balancer would on an upstream time-out, and cuts
// every seventeenth connection without an answer: about one request in
// four fails. offset shifts the pattern. With failPut, every manifest
// upload to a "prodfail" repository fails.
func faultyProxy(t *testing.T, reg string, offset int64, failPut bool) string {
	t.Helper()
	target, _ := url.Parse("http://" + reg)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	n.Store(offset)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failPut && r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && strings.Contains(r.URL.Path, "/prodfail/") {
			http.Error(w, "manifest uploads are failing", http.StatusServiceUnavailable)
			return
		}
		switch i := n.Add(1); {
		case i%9 == 0:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		case i%13 == 0:
			time.Sleep(300 * time.Millisecond)
			http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
			return
		case i%17 == 0:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPromotionThroughFaults promotes through a proxy that fails requests:
// each promotion completes and verifies, or fails cleanly, and a tag at
// the destination only ever points at a whole image.
func TestPromotionThroughFaults(t *testing.T) {
	reg := registry(t) // first: where it is missing, the test ends before building cosign
	cosign := testtools.Cosign(t, testtools.CosignV3)
	key, pub := keyPair(t, cosign, keyPassword)
	src := copyExample(t)
	r := paved(t, []string{"COSIGN_PASSWORD=" + keyPassword}, "run", "go-service", "--source", src, "--image", reg+"/staging/svc", "--key", key, "--cache-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
	}
	digest := r.lastLine()[strings.Index(r.lastLine(), "@")+1:]

	// tagIsWhole checks through the real registry that the tag, if any,
	// names the promoted image with every manifest and blob present.
	tagIsWhole := func(t *testing.T, repo string) bool {
		t.Helper()
		desc, err := remote.Head(mustRef(t, reg+"/"+repo+":v1"))
		if err != nil {
			return false
		}
		if desc.Digest.String() != digest {
			t.Fatalf("tag v1 points at %s, not %s", desc.Digest, digest)
		}
		idx, err := remote.Index(mustRef(t, reg+"/"+repo+"@"+digest))
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(idx); err != nil {
			t.Fatalf("tag v1 points at a partial image: %v", err)
		}
		return true
	}

	completed, ran := 0, 0
	for offset := int64(0); offset < 3; offset++ {
		t.Run(fmt.Sprintf("faults offset %d", offset), func(t *testing.T) {
			ran++
			proxy := faultyProxy(t, reg, offset, false)
			repo := fmt.Sprintf("prod%d/svc", offset)
			r := paved(t, nil, "promote", "--from", proxy+"/staging/svc@"+digest, "--to", proxy+"/"+repo,
				"--key", pub, "--vuln-db", demoDB, "--tag", "v1", "--deployments", filepath.Join(t.TempDir(), "d.jsonl"))
			switch r.code {
			case 0:
				completed++
				if !tagIsWhole(t, repo) {
					t.Fatal("promotion succeeded without the tag")
				}
				out, err := cosignRun(t, cosign, "verify", "--key", pub, "--insecure-ignore-tlog", "--allow-insecure-registry", reg+"/"+repo+"@"+digest)
				if err != nil {
					t.Fatalf("cosign verify after a promotion through faults: %v\n%s", err, out)
				}
			case 1:
				t.Logf("failed cleanly: %s", lastLines(r.stderr, 3))
				tagIsWhole(t, repo)
			default:
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
		})
	}
	if ran > 0 && completed == 0 {
		t.Error("no promotion completed: the retries do not work")
	}

	t.Run("destination refusing manifests", func(t *testing.T) {
		proxy := faultyProxy(t, reg, 0, true)
		r := paved(t, nil, "promote", "--from", proxy+"/staging/svc@"+digest, "--to", proxy+"/prodfail/svc",
			"--key", pub, "--vuln-db", demoDB, "--tag", "v1", "--deployments", filepath.Join(t.TempDir(), "d.jsonl"))
		if r.code != 1 || !strings.Contains(r.stderr, "prodfail/svc") {
			t.Fatalf("exit %d, want 1 naming the destination:\n%s", r.code, r.stderr)
		}
		if tagIsWhole(t, "prodfail/svc") {
			t.Fatal("a tag was set although the copy failed")
		}
	})
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// deployment is what a service.deployed event in the deployments file says.
type deployment struct {
	promote.Deployment
	Commits []promote.Commit
}

// readDeployments reads the deployments file: one service.deployed
// CloudEvent per line.
func readDeployments(t *testing.T, path string) []deployment {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []deployment
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Subject struct {
					ID      string `json:"id"`
					Content struct {
						Environment struct{ ID string } `json:"environment"`
						ArtifactID  string              `json:"artifactId"`
					} `json:"content"`
				} `json:"subject"`
				CustomData struct {
					Digest, Repository, Commit, PreviousDigest, PreviousCommit string
					Commits                                                    []promote.Commit
				} `json:"customData"`
			} `json:"data"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if ev.Type != "dev.cdevents.service.deployed.0.3.0" {
			t.Fatalf("%s: event type %q", path, ev.Type)
		}
		c, s := ev.Data.CustomData, ev.Data.Subject
		out = append(out, deployment{Deployment: promote.Deployment{Environment: s.Content.Environment.ID, Service: s.ID,
			Artifact: s.Content.ArtifactID, Digest: c.Digest, Repository: c.Repository, Commit: c.Commit,
			PreviousDigest: c.PreviousDigest, PreviousCommit: c.PreviousCommit}, Commits: c.Commits})
	}
	return out
}

// checkRunEvents reads a go-service run's events: the run's, each step's,
// and the artifact's, packaged, published and signed under its digest.
func checkRunEvents(t *testing.T, path, digest string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev struct{ Type, ID, Subject, Source string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		typ := strings.TrimSuffix(strings.TrimPrefix(ev.Type, "dev.cdevents."), ".0.3.0")
		if strings.HasPrefix(typ, "taskrun.") {
			typ += " " + ev.Subject[strings.LastIndex(ev.Subject, "/")+1:]
		}
		if strings.HasPrefix(typ, "artifact.") && !strings.Contains(ev.Subject, digest) {
			t.Errorf("%s names %s, not %s", typ, ev.Subject, digest)
		}
		seen[typ]++
		order = append(order, typ)
	}
	t.Logf("go-service run events, in order: %s", strings.Join(order, ", "))
	want := []string{"pipelinerun.queued", "pipelinerun.started", "pipelinerun.finished", "artifact.packaged", "artifact.published", "artifact.signed"}
	for _, step := range []string{"test", "build", "sbom", "scan", "publish", "sign", "attest"} {
		want = append(want, "taskrun.started "+step, "taskrun.finished "+step)
	}
	for _, w := range want {
		if seen[w] == 0 {
			t.Errorf("no %s event", w)
		}
	}
}
