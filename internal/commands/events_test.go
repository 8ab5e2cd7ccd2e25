package commands

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pavedhq/paved/runner/events"
)

// TestDoraIncident opens and resolves an incident into a file sink: two
// CloudEvents with the incident's id, service, environment and artifact,
// team from paved.yaml; resolving needs the id; no sink is bad usage.
func TestDoraIncident(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv(events.EnvSinks, "")
	svc := t.TempDir()
	if err := os.WriteFile(filepath.Join(svc, "paved.yaml"), []byte("team: pay\nservice: api\nevents: [file:incidents.jsonl]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const artifact = "pkg:oci/api@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae?repository_url=r.example.com/prod/api"
	id, _, err := pavedCmd(t, "dora", "incident", "open", "--source", svc, "--environment", "production", "--artifact", artifact)
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	if _, _, err := pavedCmd(t, "dora", "incident", "resolve", "--source", svc); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--id") {
		t.Errorf("resolve without --id: %v", err)
	}
	if _, _, err := pavedCmd(t, "dora", "incident", "resolve", "--source", svc, "--id", id); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(svc, "incidents.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d events, want 2:\n%s", len(lines), b)
	}
	for i, want := range []events.Type{events.IncidentDetected, events.IncidentResolved} {
		var ev events.Event
		if err := json.Unmarshal([]byte(lines[i]), &ev); err != nil {
			t.Fatal(err)
		}
		var body struct {
			Subject struct {
				ID      string `json:"id"`
				Content struct {
					Environment struct{ ID string } `json:"environment"`
					Service     struct{ ID string } `json:"service"`
					ArtifactID  string              `json:"artifactId"`
				} `json:"content"`
			} `json:"subject"`
			CustomData map[string]string `json:"customData"`
		}
		json.Unmarshal(ev.Data(), &body)
		c := body.Subject.Content
		if events.TypeOf(ev.Type()) != want || body.Subject.ID != id || c.Environment.ID != "production" || c.Service.ID != "api" ||
			body.CustomData["team"] != "pay" || ev.Source() != "paved/pay/api" || (want == events.IncidentDetected && c.ArtifactID != artifact) {
			t.Errorf("event %d: %s", i, lines[i])
		}
	}
	if _, _, err := pavedCmd(t, "dora", "incident", "open", "--service", "api", "--source", t.TempDir()); ExitCode(err) != 2 || !strings.Contains(err.Error(), "no events sink") {
		t.Errorf("no sink: %v", err)
	}
}

// TestEventsFlush: an incident recorded while the collector is down waits
// in the spool (exit 0, a warning); paved events flush exits 1 while it
// cannot deliver, then delivers it, with the token from the environment,
// once the collector is up.
func TestEventsFlush(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv(events.EnvSinks, "")
	const token = "flush-token-never-printed"
	t.Setenv(events.TokenEnv, token)
	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("Ce-Id")] = r.Header.Get("Authorization")
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	url := "http://" + srv.Listener.Addr().String() + "/v1/events"
	srv.Listener.Close() // down

	_, stderr, err := pavedCmd(t, "dora", "incident", "open", "--service", "api", "--id", "INC-7", "--events", url, "--source", t.TempDir())
	if err != nil {
		t.Fatalf("a sink outage failed the command: %v", err)
	}
	if !strings.Contains(stderr, "connection refused") || !strings.Contains(stderr, "spooled") || strings.Contains(stderr, token) {
		t.Errorf("stderr %q", stderr)
	}
	if _, _, err := pavedCmd(t, "events", "flush"); ExitCode(err) != 1 {
		t.Errorf("flush with the sink down: %v, want exit 1", err)
	}
	ln, err := net.Listen("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/v1/events"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	// Each paved takes the token out of its environment as it starts.
	t.Setenv(events.TokenEnv, token)
	_, stderr, err = pavedCmd(t, "events", "flush")
	if err != nil || !strings.Contains(stderr, "1 delivered, 0 waiting") {
		t.Fatalf("flush: %v\n%s", err, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got["INC-7/incident.detected"] != "Bearer "+token {
		t.Errorf("collector got %v", got)
	}
}

// TestRunEventsToStdoutWithJSON: the report and the events cannot share
// stdout.
func TestRunEventsToStdoutWithJSON(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv(events.EnvSinks, "")
	_, _, err := pavedCmd(t, "run", "go-service", "--source", t.TempDir(), "--json", "--events", "stdout")
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "stdout") {
		t.Errorf("%v, want a usage error", err)
	}
	if _, _, err := pavedCmd(t, "run", "go-service", "--source", t.TempDir(), "--events", "ftp://x"); ExitCode(err) != 2 || !strings.Contains(err.Error(), "--events") {
		t.Errorf("bad sink: %v, want a usage error naming --events", err)
	}
}
