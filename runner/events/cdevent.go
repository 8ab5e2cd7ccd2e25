package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
)

// SpecVersion is the CDEvents specification the events follow.
const SpecVersion = "0.5.1"

// Type is a CDEvent type without its version: "service.deployed".
type Type string

// The types paved emits, and the version of each event's schema in
// SpecVersion.
const (
	PipelineRunQueued   Type = "pipelinerun.queued"
	PipelineRunStarted  Type = "pipelinerun.started"
	PipelineRunFinished Type = "pipelinerun.finished"
	TaskRunStarted      Type = "taskrun.started"
	TaskRunFinished     Type = "taskrun.finished"
	ArtifactPackaged    Type = "artifact.packaged"
	ArtifactPublished   Type = "artifact.published"
	ArtifactSigned      Type = "artifact.signed"
	ServiceDeployed     Type = "service.deployed"
	IncidentDetected    Type = "incident.detected"
	IncidentResolved    Type = "incident.resolved"
)

// typeVersion is each type's schema version in spec 0.5.1.
const typeVersion = "0.3.0"

// CloudEventType is the CloudEvent type for t:
// dev.cdevents.<subject>.<predicate>.<version>.
func (t Type) CloudEventType() string { return "dev.cdevents." + string(t) + "." + typeVersion }

// TypeOf returns the paved Type of a CloudEvent type, or "" when it is not
// a CDEvent.
func TypeOf(ceType string) Type {
	s, ok := strings.CutPrefix(ceType, "dev.cdevents.")
	if !ok {
		return ""
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 3 {
		return ""
	}
	return Type(parts[0] + "." + parts[1])
}

// Event is a CloudEvent carrying a CDEvent.
type Event = cloudevents.Event

// Origin is who emits: the team and service from paved.yaml.
type Origin struct {
	Team    string
	Service string
}

// Source is the CloudEvent source: paved/<team>/<service>, stable for a
// service wherever it runs, so (source, id) de-duplicates across hosts.
func (o Origin) Source() string {
	s := "paved"
	if o.Team != "" {
		s += "/" + url.PathEscape(o.Team)
	}
	return s + "/" + url.PathEscape(o.Service)
}

// Run identifies a pipeline run.
type Run struct {
	ID       string
	Pipeline string
	// URL is the CI run's page; empty locally.
	URL        string
	Repository string
	Commit     string
}

func (r Run) uri() string {
	if r.URL != "" {
		if u, err := url.Parse(r.URL); err == nil && u.IsAbs() {
			return r.URL
		}
	}
	return "urn:paved:run:" + url.PathEscape(r.ID)
}

// Outcome is how a run or a task ended, in CDEvents' words.
type Outcome string

const (
	Success Outcome = "success"
	Failure Outcome = "failure"
	Error   Outcome = "error"
	Cancel  Outcome = "cancel"
)

type reference struct {
	ID     string `json:"id"`
	Source string `json:"source,omitempty"`
}

type cdContext struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	Timestamp   time.Time `json:"timestamp"`
	SpecVersion string    `json:"specversion"`
}

type cdSubject struct {
	ID      string `json:"id"`
	Source  string `json:"source,omitempty"`
	Content any    `json:"content"`
}

type cdEvent struct {
	Context               cdContext       `json:"context"`
	Subject               cdSubject       `json:"subject"`
	CustomData            json.RawMessage `json:"customData,omitempty"`
	CustomDataContentType string          `json:"customDataContentType,omitempty"`
}

// build makes the CloudEvent around a CDEvent. custom is merged over
// {"team", "service"}.
func (o Origin) build(t Type, id, subject string, at time.Time, content any, custom map[string]any) (*Event, error) {
	if o.Service == "" {
		return nil, errors.New("event: no service (set service in paved.yaml or --service)")
	}
	if id == "" || subject == "" {
		return nil, fmt.Errorf("event %s: empty id or subject", t)
	}
	cd := map[string]any{"team": o.Team, "service": o.Service}
	for k, v := range custom {
		cd[k] = v
	}
	raw, err := json.Marshal(cd)
	if err != nil {
		return nil, err
	}
	at = at.UTC()
	src := o.Source()
	body := cdEvent{
		Context:               cdContext{ID: id, Source: src, Type: t.CloudEventType(), Timestamp: at, SpecVersion: SpecVersion},
		Subject:               cdSubject{ID: subject, Source: src, Content: content},
		CustomData:            raw,
		CustomDataContentType: "application/json",
	}
	ev := cloudevents.New()
	ev.SetID(id)
	ev.SetSource(src)
	ev.SetType(t.CloudEventType())
	ev.SetSubject(subject)
	ev.SetTime(at)
	if err := ev.SetData(cloudevents.ApplicationJSON, body); err != nil {
		return nil, fmt.Errorf("event %s: %w", t, err)
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("event %s: %w", t, err)
	}
	return &ev, nil
}

func runID(r Run, part string, t Type) string { return r.ID + "/" + part + "/" + string(t) }

func (o Origin) runCustom(r Run) map[string]any {
	m := map[string]any{"runId": r.ID}
	if r.Repository != "" {
		m["repository"] = r.Repository
	}
	if r.Commit != "" {
		m["commit"] = r.Commit
	}
	return m
}

// PipelineRun is a pipelinerun event: queued, started, or finished with
// an outcome (and errors, when it failed).
func (o Origin) PipelineRun(t Type, r Run, outcome Outcome, errs string, at time.Time) (*Event, error) {
	var content any
	switch t {
	case PipelineRunQueued, PipelineRunStarted:
		content = struct {
			PipelineName string `json:"pipelineName"`
			URI          string `json:"uri"`
		}{r.Pipeline, r.uri()}
	case PipelineRunFinished:
		content = struct {
			PipelineName string  `json:"pipelineName"`
			URI          string  `json:"uri"`
			Outcome      Outcome `json:"outcome"`
			Errors       string  `json:"errors,omitempty"`
		}{r.Pipeline, r.uri(), outcome, errs}
	default:
		return nil, fmt.Errorf("event: %s is not a pipelinerun type", t)
	}
	return o.build(t, runID(r, "run", t), r.ID, at, content, o.runCustom(r))
}

// TaskRun is a step's taskrun.started or taskrun.finished.
func (o Origin) TaskRun(t Type, r Run, step string, outcome Outcome, errs string, at time.Time) (*Event, error) {
	type content struct {
		TaskName    string    `json:"taskName"`
		URI         string    `json:"uri,omitempty"`
		PipelineRun reference `json:"pipelineRun"`
		Outcome     Outcome   `json:"outcome,omitempty"`
		Errors      string    `json:"errors,omitempty"`
	}
	c := content{TaskName: step, URI: r.uri(), PipelineRun: reference{ID: r.ID, Source: o.Source()}}
	switch t {
	case TaskRunStarted:
	case TaskRunFinished:
		c.Outcome, c.Errors = outcome, errs
	default:
		return nil, fmt.Errorf("event: %s is not a taskrun type", t)
	}
	custom := o.runCustom(r)
	custom["step"] = step
	return o.build(t, runID(r, step, t), r.ID+"/"+step, at, c, custom)
}

// Artifact is an image a run made.
type Artifact struct {
	// ID is its package URL (PURL).
	ID     string
	Digest string
	// Signature is where a signature is stored, for artifact.signed.
	Signature string
	// SBOM is where its SBOM is, when there is one.
	SBOM string
}

// ArtifactEvent is artifact.packaged, .published or .signed.
func (o Origin) ArtifactEvent(t Type, r Run, a Artifact, at time.Time) (*Event, error) {
	type sbom struct {
		URI string `json:"uri"`
	}
	var content any
	part := a.Digest
	switch t {
	case ArtifactPackaged:
		change := reference{ID: r.Commit, Source: r.Repository}
		if change.ID == "" {
			change.ID = "uncommitted"
		}
		if _, err := url.Parse(change.Source); err != nil || strings.ContainsAny(change.Source, " \t") {
			change.Source = ""
		}
		c := struct {
			Change reference `json:"change"`
			SBOM   *sbom     `json:"sbom,omitempty"`
		}{Change: change}
		if a.SBOM != "" {
			c.SBOM = &sbom{a.SBOM}
		}
		content = c
	case ArtifactPublished:
		c := struct {
			SBOM *sbom `json:"sbom,omitempty"`
		}{}
		if a.SBOM != "" {
			c.SBOM = &sbom{a.SBOM}
		}
		content = c
	case ArtifactSigned:
		if a.Signature == "" {
			return nil, errors.New("event artifact.signed: no signature reference")
		}
		content = struct {
			Signature string `json:"signature"`
		}{a.Signature}
		part += "/" + a.Signature
	default:
		return nil, fmt.Errorf("event: %s is not an artifact type", t)
	}
	custom := o.runCustom(r)
	custom["digest"] = a.Digest
	return o.build(t, runID(r, part, t), a.ID, at, content, custom)
}

// Commit is one commit a deployment carries.
type Commit struct {
	SHA    string    `json:"sha"`
	Author string    `json:"author,omitempty"`
	Time   time.Time `json:"time,omitzero"`
}

// Deployment is a promotion into an environment.
type Deployment struct {
	Environment    string
	ArtifactID     string // purl
	Digest         string
	Repository     string
	Commit         string
	PreviousDigest string
	PreviousCommit string
	Commits        []Commit
	Time           time.Time
}

// Deployed is service.deployed for d. Its id depends only on the digest and
// the environment: promoting the same image twice is one deployment.
func (o Origin) Deployed(d Deployment) (*Event, error) {
	if d.Environment == "" || d.ArtifactID == "" || d.Digest == "" {
		return nil, errors.New("event service.deployed: environment, artifact and digest are required")
	}
	content := struct {
		Environment reference `json:"environment"`
		ArtifactID  string    `json:"artifactId"`
	}{reference{ID: d.Environment}, d.ArtifactID}
	commits := d.Commits
	if commits == nil {
		commits = []Commit{}
	}
	custom := map[string]any{
		"digest":     d.Digest,
		"commits":    commits,
		"deployedAt": d.Time.UTC().Format(time.RFC3339),
	}
	for k, v := range map[string]string{"repository": d.Repository, "commit": d.Commit, "previousDigest": d.PreviousDigest, "previousCommit": d.PreviousCommit} {
		if v != "" {
			custom[k] = v
		}
	}
	id := d.Digest + "/" + d.Environment + "/" + string(ServiceDeployed)
	return o.build(ServiceDeployed, id, o.Service, d.Time, content, custom)
}

// Incident is an incident in a service's environment.
type Incident struct {
	ID          string
	Environment string
	// ArtifactID, when known, names the image at fault (a purl): the
	// collector attributes the incident to its deployment.
	ArtifactID  string
	Description string
	Time        time.Time
}

// IncidentEvent is incident.detected or incident.resolved.
func (o Origin) IncidentEvent(t Type, in Incident) (*Event, error) {
	if t != IncidentDetected && t != IncidentResolved {
		return nil, fmt.Errorf("event: %s is not an incident type", t)
	}
	if in.ID == "" || in.Environment == "" {
		return nil, fmt.Errorf("event %s: incident id and environment are required", t)
	}
	content := struct {
		Environment reference `json:"environment"`
		Service     reference `json:"service"`
		ArtifactID  string    `json:"artifactId,omitempty"`
		Description string    `json:"description,omitempty"`
	}{reference{ID: in.Environment}, reference{ID: o.Service}, in.ArtifactID, in.Description}
	return o.build(t, in.ID+"/"+string(t), in.ID, in.Time, content, nil)
}

// PURL is the package URL of an OCI image in a registry repository, as
// CDEvents name artifacts: pkg:oci/<name>@sha256:<hex>?repository_url=<registry>/<path>.
func PURL(registry, repository, digest string) string {
	name := repository[strings.LastIndexByte(repository, '/')+1:]
	return fmt.Sprintf("pkg:oci/%s@%s?repository_url=%s", name, digest, registry+"/"+repository)
}
