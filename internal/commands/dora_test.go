package commands

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora/api"
	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/export"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/synth"
)

// lockedBuffer is a stderr a running command writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listening = regexp.MustCompile(`listening on (https?://\S+)`)

// paved dora serve on a SQLite file, fed over HTTP; then paved dora metrics
// and export read it through the server (--server, token from the
// environment) and from the file (--db) alike.
func TestDoraServeMetricsExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "dora.db")
	tokens := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(tokens, fmt.Appendf(nil, "tokens:\n  - {name: all, sha256: %s, teams: ['*'], rights: [read]}\n  - {name: ci, sha256: %s, teams: ['*'], rights: [ingest], rate: 1000}\n", auth.Hash("read-tok"), auth.Hash("ci-tok")), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := startServe(t, "--db", db, "--addr", "127.0.0.1:0", "--tokens", tokens)
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	hist := synth.Generate(synth.Config{Seed: 7, Teams: 3, ServicesPerTeam: 1, Start: start, Days: 28})
	body, _ := json.Marshal(hist.Events)
	req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer ci-tok")
	req.Header.Set("Content-Type", ingest.Batch)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ingest: %s", resp.Status)
	}

	period := []string{"--from", "2026-01-05", "--to", "2026-02-02", "--bucket", "week"}
	t.Setenv(DoraTokenEnv, "read-tok")
	var viaServer, viaDB api.Response
	for _, c := range []struct {
		args []string
		into *api.Response
	}{{[]string{"--server", base}, &viaServer}, {[]string{"--db", db}, &viaDB}} {
		out, _, err := pavedCmd(t, append(append([]string{"dora", "metrics", "--json"}, c.args...), period...)...)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(out), c.into); err != nil {
			t.Fatalf("--json: %v\n%s", err, out)
		}
	}
	if len(viaDB.Totals) == 0 || len(viaDB.Rows) != 4*len(viaDB.Totals) {
		t.Fatalf("--db: %d totals and %d rows, want 4 weeks for each", len(viaDB.Totals), len(viaDB.Rows))
	}
	if d := cmp.Diff(viaDB, viaServer); d != "" {
		t.Errorf("--server and --db differ (-db +server):\n%s", d)
	}

	table, _, err := pavedCmd(t, append([]string{"dora", "metrics", "--server", base, "--rows"}, period...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"TEAM", "LEAD TIME MEDIAN", "2026-01-26", viaDB.Totals[0].Service, viaDB.Totals[len(viaDB.Totals)-1].Service} {
		if !strings.Contains(table, s) {
			t.Errorf("the table does not show %q:\n%s", s, table)
		}
	}
	t.Logf("paved dora metrics:\n%s", table)

	out := filepath.Join(dir, "keys.parquet")
	if _, stderr, err := pavedCmd(t, append([]string{"dora", "export", "--server", base, "--format", "parquet", "--out", out}, period...)...); err != nil || !strings.Contains(stderr, fmt.Sprintf("wrote %d rows", len(viaDB.Rows))) {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	rows, err := export.ReadParquet(f, st.Size())
	f.Close()
	if err != nil || len(rows) != len(viaDB.Rows) || rows[0].Service != viaDB.Rows[0].Service {
		t.Errorf("exported %d rows (%v)", len(rows), err)
	}

	stop()
}

// startServe runs paved dora serve with args until the test ends or stop
// is called, and returns its URL once it listens.
func startServe(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout bytes.Buffer
	var stderr lockedBuffer
	served := make(chan error, 1)
	go func() {
		c := New("v1.2.3", &stdout, &stderr)
		c.SetArgs(append([]string{"dora", "serve"}, args...))
		served <- c.ExecuteContext(ctx)
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-served:
			cancel()
			t.Fatalf("serve ended: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return base, stop
}

// --tls-cert and --tls-key serve HTTPS; plain HTTP to that port fails.
func TestDoraServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "collector"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile, tokens := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "tokens.yaml")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(tokens, fmt.Appendf(nil, "tokens:\n  - {name: r, sha256: %s, teams: ['*'], rights: [read]}\n", auth.Hash("tok")), 0o600)

	base, _ := startServe(t, "--db", filepath.Join(dir, "dora.db"), "--addr", "127.0.0.1:0", "--tokens", tokens, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("serving %s", base)
	}
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", base+"/v1/teams", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/v1/teams over https: %s", resp.Status)
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestDoraUsageErrors(t *testing.T) {
	t.Setenv(DoraTokenEnv, "")
	tokens := filepath.Join(t.TempDir(), "tokens.yaml")
	os.WriteFile(tokens, []byte("tokens: []\n"), 0o600)
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"dora", "serve", "--tokens", tokens}, "--db: required"},
		{[]string{"dora", "serve", "--db", "x.db"}, "--tokens: required"},
		{[]string{"dora", "serve", "--db", "x.db", "--tokens", tokens}, "--tokens: tokens file"},
		{[]string{"dora", "serve", "--db", "x.db", "--tokens", tokens, "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"dora", "metrics"}, "give one of --server URL and --db DSN"},
		{[]string{"dora", "metrics", "--server", "http://127.0.0.1:1", "--db", "x.db"}, "give one of"},
		{[]string{"dora", "metrics", "--server", "http://127.0.0.1:1"}, "set $PAVED_DORA_TOKEN"},
		{[]string{"dora", "metrics", "--db", "x.db", "--bucket", "year"}, "--bucket: \"year\" is not day, week or month"},
		{[]string{"dora", "metrics", "--db", "x.db", "--from", "last week"}, "--from:"},
		{[]string{"dora", "export", "--db", "x.db", "--format", "csv", "--out", "x"}, "--format: \"csv\""},
		{[]string{"dora", "export", "--db", "x.db"}, "--out: required"},
	} {
		_, _, err := pavedCmd(t, tc.args...)
		if err == nil || ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: %v (exit %d), want a usage error saying %q", tc.args, err, ExitCode(err), tc.says)
		}
	}
}
