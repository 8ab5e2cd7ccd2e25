package events

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	cdevents "github.com/cdevents/sdk-go/pkg/api/v05"
	"github.com/google/go-cmp/cmp"
)

const purl = "pkg:oci/api@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae?repository_url=registry.example.com/prod/api"

// every builds one event of each type paved emits.
func every(t *testing.T) map[Type]*Event {
	t.Helper()
	o := Origin{Team: "pay", Service: "api"}
	r := Run{ID: "20260302T090000Z-0a1b2c3d", Pipeline: "go-service", Repository: "https://github.com/acme/api", Commit: strings.Repeat("a", 40)}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	a := Artifact{ID: purl, Digest: "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", Signature: "registry.example.com/prod/api:sha256-2c26.sig"}
	out := map[Type]*Event{}
	add := func(t2 Type, ev *Event, err error) {
		if err != nil {
			t.Fatalf("%s: %v", t2, err)
		}
		out[t2] = ev
	}
	for _, t2 := range []Type{PipelineRunQueued, PipelineRunStarted} {
		ev, err := o.PipelineRun(t2, r, "", "", at)
		add(t2, ev, err)
	}
	ev, err := o.PipelineRun(PipelineRunFinished, r, Failure, "step test: 2 tests failed", at)
	add(PipelineRunFinished, ev, err)
	ev, err = o.TaskRun(TaskRunStarted, r, "build", "", "", at)
	add(TaskRunStarted, ev, err)
	ev, err = o.TaskRun(TaskRunFinished, r, "build", Success, "", at)
	add(TaskRunFinished, ev, err)
	for _, t2 := range []Type{ArtifactPackaged, ArtifactPublished, ArtifactSigned} {
		ev, err := o.ArtifactEvent(t2, r, a, at)
		add(t2, ev, err)
	}
	ev, err = o.Deployed(Deployment{Environment: "production", ArtifactID: purl, Digest: a.Digest,
		Repository: r.Repository, Commit: r.Commit, PreviousDigest: "sha256:" + strings.Repeat("b", 64),
		Commits: []Commit{{SHA: r.Commit, Author: "Ada <ada@example.com>", Time: at.Add(-time.Hour)}}, Time: at})
	add(ServiceDeployed, ev, err)
	ev, err = o.IncidentEvent(IncidentDetected, Incident{ID: "INC-42", Environment: "production", ArtifactID: purl, Time: at})
	add(IncidentDetected, ev, err)
	ev, err = o.IncidentEvent(IncidentResolved, Incident{ID: "INC-42", Environment: "production", Time: at.Add(time.Hour)})
	add(IncidentResolved, ev, err)
	return out
}

// TestEventsFollowTheCDEventsSchemas reads every event paved emits with
// the CDEvents SDK and validates it against the spec's JSON schema, and
// checks the CloudEvent around it.
func TestEventsFollowTheCDEventsSchemas(t *testing.T) {
	for typ, ev := range every(t) {
		t.Run(string(typ), func(t *testing.T) {
			if err := ev.Validate(); err != nil {
				t.Fatal(err)
			}
			cd, err := cdevents.NewFromJsonBytes(ev.Data())
			if err != nil {
				t.Fatalf("SDK cannot read it: %v\n%s", err, ev.Data())
			}
			_, schema, err := cd.GetSchema()
			if err != nil {
				t.Fatal(err)
			}
			var v any
			json.Unmarshal(ev.Data(), &v)
			if err := schema.Validate(v); err != nil {
				t.Errorf("schema: %v\n%s", err, ev.Data())
			}
			if cd.GetType().String() != ev.Type() || cd.GetId() != ev.ID() || cd.GetSource() != ev.Source() || cd.GetSubjectId() != ev.Subject() {
				t.Errorf("CloudEvent %s %s %s %s, CDEvent %s %s %s %s", ev.Type(), ev.ID(), ev.Source(), ev.Subject(), cd.GetType(), cd.GetId(), cd.GetSource(), cd.GetSubjectId())
			}
			if TypeOf(ev.Type()) != typ {
				t.Errorf("TypeOf(%s) = %s", ev.Type(), TypeOf(ev.Type()))
			}
			if cd.GetCustomDataContentType() != "application/json" {
				t.Errorf("customDataContentType %q", cd.GetCustomDataContentType())
			}
			var custom map[string]any
			if err := cd.GetCustomDataAs(&custom); err != nil || custom["team"] != "pay" || custom["service"] != "api" {
				t.Errorf("customData %v (%v), want team and service", custom, err)
			}
		})
	}
}

// TestWireContract pins what the collector reads from service.deployed
// and the incidents.
func TestWireContract(t *testing.T) {
	evs := every(t)
	var dep struct {
		Subject struct {
			ID      string `json:"id"`
			Content struct {
				Environment struct{ ID string } `json:"environment"`
				ArtifactID  string              `json:"artifactId"`
			} `json:"content"`
		} `json:"subject"`
		CustomData map[string]any `json:"customData"`
	}
	d := evs[ServiceDeployed]
	if err := json.Unmarshal(d.Data(), &dep); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"team": "pay", "service": "api", "digest": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		"repository": "https://github.com/acme/api", "commit": strings.Repeat("a", 40), "previousDigest": "sha256:" + strings.Repeat("b", 64),
		"commits":    []any{map[string]any{"sha": strings.Repeat("a", 40), "author": "Ada <ada@example.com>", "time": "2026-03-02T08:00:00Z"}},
		"deployedAt": "2026-03-02T09:00:00Z",
	}
	if diff := cmp.Diff(want, dep.CustomData); diff != "" {
		t.Errorf("service.deployed customData (-want +got):\n%s", diff)
	}
	if dep.Subject.ID != "api" || dep.Subject.Content.Environment.ID != "production" || dep.Subject.Content.ArtifactID != purl {
		t.Errorf("service.deployed subject %+v", dep.Subject)
	}
	if d.ID() != "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae/production/service.deployed" || d.Source() != "paved/pay/api" {
		t.Errorf("service.deployed id %q source %q", d.ID(), d.Source())
	}
	inc := evs[IncidentDetected]
	var in struct {
		Subject struct {
			ID      string `json:"id"`
			Content struct {
				Environment struct{ ID string } `json:"environment"`
				Service     struct{ ID string } `json:"service"`
				ArtifactID  string              `json:"artifactId"`
			} `json:"content"`
		} `json:"subject"`
		CustomData map[string]any `json:"customData"`
	}
	json.Unmarshal(inc.Data(), &in)
	if in.Subject.ID != "INC-42" || in.Subject.Content.Environment.ID != "production" || in.Subject.Content.Service.ID != "api" ||
		in.Subject.Content.ArtifactID != purl || in.CustomData["team"] != "pay" || inc.ID() != "INC-42/incident.detected" {
		t.Errorf("incident.detected %s", inc.Data())
	}
	// The same logical event has the same id, wherever it is built again.
	if again := every(t); again[TaskRunFinished].ID() != evs[TaskRunFinished].ID() || again[ServiceDeployed].ID() != d.ID() {
		t.Error("ids are not stable")
	}
}

// TestEventsDoNotSlowStart: the package must not link the CDEvents SDK,
// whose initialisation compiles every schema of the spec on each start.
func TestEventsDoNotSlowStart(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/cdevents/") || strings.HasPrefix(dep, "github.com/santhosh-tekuri/jsonschema") {
			t.Errorf("runner/events links %s", dep)
		}
	}
}
