package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The CDEvents types the four keys read, by prefix (the version follows).
const (
	typeDeployed   = "dev.cdevents.service.deployed."
	typeUpgraded   = "dev.cdevents.service.upgraded."
	typeRolledback = "dev.cdevents.service.rolledback."
	typeDetected   = "dev.cdevents.incident.detected."
	typeReported   = "dev.cdevents.incident.reported."
	typeResolved   = "dev.cdevents.incident.resolved."
)

// Deployment is what a service deployed, upgraded or rolledback event says.
type Deployment struct {
	Team, Service, Environment string
	// Kind is deployed, upgraded or rolledback; all three are deployments.
	Kind   string
	Digest string // sha256:<hex>, from the artifact purl or customData.digest
	At     time.Time
	// Commits are the changes the deployment carries (every commit since the
	// previous deployment of the service to the environment).
	Commits []Commit
	// Resolves names incidents this deployment restores service for
	// (customData.resolves): their time to restore ends at At.
	Resolves []string
}

// Commit is one change a deployment carries.
type Commit struct {
	SHA  string
	Time time.Time
}

// Incident is what an incident detected, reported or resolved event says.
type Incident struct {
	ID, Team, Service, Environment string
	Digest                         string // the artifact it names, if any
	// Detected or Resolved is set, by the event's type, to its time.
	Detected, Resolved time.Time
}

// cdevent is the part of a CDEvent (v0.4) the keys read.
type cdevent struct {
	Context struct {
		Timestamp string `json:"timestamp"`
	} `json:"context"`
	Subject struct {
		ID      string `json:"id"`
		Content struct {
			Environment struct {
				ID string `json:"id"`
			} `json:"environment"`
			Service struct {
				ID string `json:"id"`
			} `json:"service"`
			ArtifactID string `json:"artifactId"`
		} `json:"content"`
	} `json:"subject"`
	CustomData json.RawMessage `json:"customData"`
}

// custom is paved's customData on deployments and incidents.
type custom struct {
	Team       string   `json:"team"`
	Service    string   `json:"service"`
	Digest     string   `json:"digest"`
	DeployedAt string   `json:"deployedAt"`
	Resolves   []string `json:"resolves"`
	Commits    []struct {
		SHA  string `json:"sha"`
		Time string `json:"time"`
	} `json:"commits"`
}

// Interpret returns the *Deployment or *Incident an event carries, nil for
// the types the keys do not read, or an error naming the field at fault.
// The result is computed once per event.
func (e *Event) Interpret() (any, error) {
	if !e.interpreted {
		e.fact, e.factErr = e.interpret()
		e.interpreted = true
	}
	return e.fact, e.factErr
}

func (e *Event) interpret() (any, error) {
	var kind string
	switch t := e.Type; {
	case strings.HasPrefix(t, typeDeployed):
		kind = "deployed"
	case strings.HasPrefix(t, typeUpgraded):
		kind = "upgraded"
	case strings.HasPrefix(t, typeRolledback):
		kind = "rolledback"
	case strings.HasPrefix(t, typeDetected), strings.HasPrefix(t, typeReported):
		kind = "detected"
	case strings.HasPrefix(t, typeResolved):
		kind = "resolved"
	default:
		return nil, nil
	}
	if !e.JSONData() || len(e.Data) == 0 {
		return nil, fmt.Errorf("data: a %s event needs CDEvent JSON data", e.Type)
	}
	var cd cdevent
	if err := json.Unmarshal(e.Data, &cd); err != nil {
		return nil, fmt.Errorf("data: malformed CDEvent: %w", err)
	}
	var cu custom
	if c := bytes.TrimSpace(cd.CustomData); len(c) > 0 && !bytes.Equal(c, []byte("null")) {
		// customData is a JSON object, or (some SDKs) a string holding one.
		if c[0] == '"' {
			var s string
			if err := json.Unmarshal(c, &s); err == nil {
				c = []byte(s)
			}
		}
		if err := json.Unmarshal(c, &cu); err != nil {
			return nil, fmt.Errorf("data.customData: %w", err)
		}
	}
	at, err := e.when(cd.Context.Timestamp)
	if err != nil {
		return nil, err
	}
	env := cd.Subject.Content.Environment.ID
	if env == "" {
		return nil, fmt.Errorf("data.subject.content.environment.id: missing")
	}
	digest, err := purlDigest(cd.Subject.Content.ArtifactID)
	if err != nil {
		return nil, fmt.Errorf("data.subject.content.artifactId: %w", err)
	}
	switch kind {
	case "detected", "resolved":
		in := &Incident{ID: cd.Subject.ID, Team: cu.Team, Service: cd.Subject.Content.Service.ID, Environment: env, Digest: digest}
		if in.ID == "" {
			return nil, fmt.Errorf("data.subject.id: missing (the incident's id)")
		}
		if in.Service == "" {
			in.Service = cu.Service
		}
		if in.Service == "" && in.Digest == "" {
			return nil, fmt.Errorf("data.subject.content.service.id: missing, and no artifactId digest to attribute the incident by")
		}
		if kind == "detected" {
			in.Detected = at
		} else {
			in.Resolved = at
		}
		return in, nil
	}
	d := &Deployment{Kind: kind, Team: cu.Team, Service: cd.Subject.ID, Environment: env, Digest: digest, At: at, Resolves: cu.Resolves}
	if d.Service == "" {
		d.Service = cu.Service
	}
	if d.Service == "" {
		return nil, fmt.Errorf("data.subject.id: missing (the service)")
	}
	if d.Team == "" {
		return nil, fmt.Errorf("data.customData.team: missing (deployments are counted per team)")
	}
	if d.Digest == "" && cu.Digest != "" {
		d.Digest = cu.Digest
	}
	if cu.DeployedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, cu.DeployedAt)
		if err != nil {
			return nil, fmt.Errorf("data.customData.deployedAt: %q is not an RFC 3339 time", cu.DeployedAt)
		}
		d.At = t
	}
	for i, c := range cu.Commits {
		if c.SHA == "" {
			return nil, fmt.Errorf("data.customData.commits[%d].sha: missing", i)
		}
		t, err := time.Parse(time.RFC3339Nano, c.Time)
		if err != nil {
			return nil, fmt.Errorf("data.customData.commits[%d].time: %q is not an RFC 3339 time", i, c.Time)
		}
		d.Commits = append(d.Commits, Commit{SHA: c.SHA, Time: t})
	}
	return d, nil
}

// when is the time the event happened: the CDEvent context's timestamp,
// else the CloudEvent's time. One of them is required: a deployment or an
// incident with no time cannot be placed in a period.
func (e *Event) when(ts string) (time.Time, error) {
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return t, fmt.Errorf("data.context.timestamp: %q is not an RFC 3339 time", ts)
		}
		return t, nil
	}
	if e.Time.IsZero() {
		return e.Time, fmt.Errorf("time: missing (neither data.context.timestamp nor the CloudEvent time)")
	}
	return e.Time, nil
}

// purlDigest returns the sha256:<hex> version of an OCI purl, "" for none.
func purlDigest(purl string) (string, error) {
	if purl == "" {
		return "", nil
	}
	if !strings.HasPrefix(purl, "pkg:") {
		return "", fmt.Errorf("%q is not a purl", purl)
	}
	at := strings.LastIndexByte(purl, '@')
	if at < 0 {
		return "", nil // names a package but no version: no digest to join on
	}
	v := purl[at+1:]
	if i := strings.IndexAny(v, "?#"); i >= 0 {
		v = v[:i]
	}
	v, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("%q: version: %w", purl, err)
	}
	if !strings.HasPrefix(v, "sha256:") {
		return "", nil // a tag or version, not a digest
	}
	return v, nil
}
