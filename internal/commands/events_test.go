package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
