package tests

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/internal/testtools/loopback"
)

// proxySecret is the password in GOPROXY and in the git remote.
const proxySecret = "s3cret-Zq81-proxy"

// cosignKey writes a key file as cosign generate-key-pair does (a PKCS #8
// ECDSA P-256 key sealed with the password by securesystemslib's
// scrypt+secretbox, PEM type "ENCRYPTED SIGSTORE PRIVATE KEY"), so this
// test needs no cosign binary.
func cosignKey(t *testing.T, password string) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := encrypted.Encrypt(der, []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cosign.key")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: sealed}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// moduleProxy serves the Go modules the example needs over the GOPROXY
// protocol, from this machine's module cache (its cache/download directory
// has that protocol's layout), to callers with the user and password only.
// It speaks HTTPS, since go sends credentials over nothing else; caFile
// holds its certificate, for SSL_CERT_FILE.
func moduleProxy(t *testing.T, src string) (url, caFile string, authorized *atomic.Int32) {
	t.Helper()
	download := exec.Command("go", "mod", "download")
	download.Dir = src
	if out, err := download.CombinedOutput(); err != nil {
		t.Fatalf("go mod download: %v\n%s", err, out)
	}
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")))
	authorized = &atomic.Int32{}
	var mu sync.Mutex
	var refused []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != "user" || pw != proxySecret {
			mu.Lock()
			refused = append(refused, r.URL.Path)
			mu.Unlock()
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		if len(refused) > 0 {
			t.Errorf("the module proxy got requests without its credentials: %v", refused)
		}
	})
	caFile = filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile, authorized
}

// TestProxyCredentialsLeaveNoTrace runs the signed golden path with a
// GOPROXY that carries a password, pointing at a local proxy that is the
// only place the service's modules can come from (an empty module cache),
// and a git remote with a token. The password is nowhere afterwards:
// stdout, stderr, the report, .paved/, the step cache, every blob in the
// registry. The provenance still says which proxy served the modules.
func TestProxyCredentialsLeaveNoTrace(t *testing.T) {
	reg := registry(t)
	src := copyExample(t)
	proxyURL, caFile, authorized := moduleProxy(t, src)
	gitInit(t, src)
	git(t, src, "remote", "set-url", "origin", "https://user:"+proxySecret+"@git.example/acme/go-service.git")
	host := strings.TrimPrefix(proxyURL, "https://")
	goproxy := "https://user:" + proxySecret + "@" + host + "/"
	key := cosignKey(t, keyPassword)
	cache, report := t.TempDir(), filepath.Join(t.TempDir(), "report.json")
	r := paved(t, []string{
		"COSIGN_PASSWORD=" + keyPassword,
		"GOPROXY=" + goproxy + ",off", "GOMODCACHE=" + t.TempDir(), "GOFLAGS=-modcacherw -buildvcs=false",
		"SSL_CERT_FILE=" + caFile, "GOSUMDB=off", "GOPRIVATE=", "GONOPROXY=", "GONOSUMDB=", "GOTOOLCHAIN=local",
	}, "run", "go-service", "--source", src, "--image", reg+"/demo/proxied", "--key", key,
		"--cache-dir", cache, "--report", report)
	if r.code != 0 {
		t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
	}
	if authorized.Load() == 0 {
		t.Fatal("the module proxy served nothing: the run did not use GOPROXY")
	}

	places := map[string][]byte{"stdout": []byte(r.stdout), "stderr": []byte(r.stderr)}
	places["report"], _ = os.ReadFile(report)
	for _, dir := range []string{filepath.Join(src, ".paved"), cache} {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				places[p], _ = os.ReadFile(p)
			}
			return nil
		})
	}
	blobs := testtools.RegistryContents(t, reg)
	for what, b := range blobs {
		places["registry "+what] = b
		// A DSSE envelope holds its statement in base64.
		var env struct {
			Payload []byte `json:"payload"`
		}
		if json.Unmarshal(b, &env) == nil && len(env.Payload) > 0 {
			places["registry "+what+" payload"] = env.Payload
		}
	}
	for where, b := range places {
		if bytes.Contains(b, []byte(proxySecret)) {
			t.Errorf("the GOPROXY password appears in %s", where)
		}
	}
	if len(blobs) < 10 {
		t.Fatalf("looked in only %d registry blobs", len(blobs))
	}

	// The provenance records where modules came from, without the password.
	provenance := false
	for _, b := range blobs {
		var env struct {
			Payload []byte `json:"payload"`
		}
		if json.Unmarshal(b, &env) != nil || len(env.Payload) == 0 {
			continue
		}
		if s := string(env.Payload); strings.Contains(s, "slsa.dev/provenance") {
			provenance = true
			if !strings.Contains(s, fmt.Sprintf("GOPROXY=https://%s/,off", host)) || strings.Contains(s, "GOPRIVATE") {
				t.Errorf("provenance Go environment: want GOPROXY without credentials and no GOPRIVATE:\n%s", s)
			}
			if !strings.Contains(s, "https://git.example/acme/go-service.git") {
				t.Errorf("provenance lacks the source repository without credentials:\n%s", s)
			}
		}
	}
	if !provenance {
		t.Error("found no provenance in the registry")
	}
}

// serviceEnvTest is a test added to the service: it fails when it can read
// a signing secret, and dumps its environment where PAVED_E2E_ENV_DUMP says.
const serviceEnvTest = `package main

import (
	"os"
	"strings"
	"testing"
)

func TestSeesNoSigningSecrets(t *testing.T) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "COSIGN_PASSWORD", "SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL":
			t.Errorf("the service's tests can read %s", k)
		}
	}
	if err := os.WriteFile(os.Getenv("PAVED_E2E_ENV_DUMP"), []byte(strings.Join(os.Environ(), "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}
`

// TestServiceCodeSeesNoSigningSecrets: paved test and paved run, with the
// signing secrets in their environment, run a service test that fails when
// it can read them. The keyless run also shows that the OIDC token is asked
// for only after the test step finished: the stand-in token service looks
// for the test step's result in the step cache when it is called.
func TestServiceCodeSeesNoSigningSecrets(t *testing.T) {
	src := copyExample(t)
	if err := os.WriteFile(filepath.Join(src, "env_test.go"), []byte(serviceEnvTest), 0o644); err != nil {
		t.Fatal(err)
	}
	secretValues := []string{keyPassword, fakeToken, "req-Zq81-never-printed", "oidc-Zq81-never-printed"}
	check := func(t *testing.T, r result, dump string) {
		t.Helper()
		b, err := os.ReadFile(dump)
		if err != nil {
			t.Fatalf("the service's test did not run: %v\n%s", err, r.stderr)
		}
		for _, v := range secretValues {
			for where, s := range map[string]string{"the service's environment": string(b), "stdout": r.stdout, "stderr": r.stderr} {
				if strings.Contains(s, v) {
					t.Errorf("%s holds a secret", where)
				}
			}
		}
	}

	t.Run("paved test", func(t *testing.T) {
		dump := filepath.Join(t.TempDir(), "env")
		r := paved(t, []string{"COSIGN_PASSWORD=" + keyPassword, "SIGSTORE_ID_TOKEN=" + fakeToken, "PAVED_E2E_ENV_DUMP=" + dump},
			"test", "--source", src, "--cache-dir", t.TempDir())
		if r.code != 0 {
			t.Fatalf("paved test exited %d\n%s", r.code, r.stderr)
		}
		check(t, r, dump)
	})

	t.Run("paved run --keyless", func(t *testing.T) {
		reg := registry(t)
		cache, dump := t.TempDir(), filepath.Join(t.TempDir(), "env")
		var mu sync.Mutex
		var calls []bool // per token request: had the test step finished?
		token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			finished := false
			filepath.Walk(filepath.Join(cache, "steps"), func(p string, info os.FileInfo, err error) error {
				if err == nil && info.Name() == "result.json" {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(`"threshold"`)) {
						finished = true
					}
				}
				return nil
			})
			mu.Lock()
			calls = append(calls, finished)
			mu.Unlock()
			if r.Header.Get("Authorization") != "Bearer req-Zq81-never-printed" {
				http.Error(w, "bad request token", http.StatusUnauthorized)
				return
			}
			fmt.Fprint(w, `{"value":"oidc-Zq81-never-printed"}`)
		}))
		defer token.Close()
		// No Fulcio listens there: signing fails once it has the token,
		// which is all this run needs to show.
		r := paved(t, []string{"COSIGN_PASSWORD=" + keyPassword, "SIGSTORE_ID_TOKEN=", "PAVED_E2E_ENV_DUMP=" + dump,
			"ACTIONS_ID_TOKEN_REQUEST_URL=" + token.URL + "/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=req-Zq81-never-printed"},
			"run", "go-service", "--source", src, "--image", reg+"/demo/keyless", "--keyless",
			"--fulcio-url", "http://"+loopback.FreeAddr(t), "--rekor-url", "http://"+loopback.FreeAddr(t), "--cache-dir", cache)
		check(t, r, dump)
		rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
		steps := map[string]string{}
		for _, s := range rep.Steps {
			steps[s.Name] = string(s.Status)
		}
		if steps["test"] != "succeeded" || steps["publish"] != "succeeded" || steps["sign"] != "failed" {
			t.Fatalf("steps %v, want test and publish to succeed and sign to fail at Fulcio\n%s", steps, r.stderr)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(calls) == 0 {
			t.Fatal("the sign step never asked for the OIDC token")
		}
		for i, finished := range calls {
			if !finished {
				t.Errorf("token request %d came before the test step finished", i+1)
			}
		}
	})
}
