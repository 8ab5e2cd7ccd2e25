// Package wire builds CloudEvents in paved's DORA wire contract for the
// collector's tests: service deployed/upgraded/rolledback and incident
// detected/resolved CDEvents, in structured mode.
package wire

import (
	"encoding/json"
	"time"
)

// Commit is a change a deployment carries.
type Commit struct {
	SHA  string
	Time time.Time
}

// Deploy is a service deployed (Kind "deployed", the default), upgraded or
// rolledback event.
type Deploy struct {
	Source, ID                 string
	Kind                       string
	Team, Service, Environment string
	Digest, Previous           string
	At                         time.Time
	Commits                    []Commit
	Resolves                   []string
}

// Incident is an incident detected (Kind "detected", the default) or
// resolved event. Team empty leaves customData out, as other tools do.
type Incident struct {
	Source, ID                 string
	Kind                       string
	Incident                   string
	Team, Service, Environment string
	Digest                     string
	At                         time.Time
}

// Event is a structured-mode CloudEvent.
type Event map[string]any

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func purl(service, digest string) string {
	return "pkg:oci/" + service + "@" + digest + "?repository_url=registry.example/" + service
}

// Event returns d as a CloudEvent.
func (d Deploy) Event() Event {
	kind := d.Kind
	if kind == "" {
		kind = "deployed"
	}
	env := d.Environment
	if env == "" {
		env = "production"
	}
	typ := "dev.cdevents.service." + kind + ".0.2.0"
	commits := []map[string]string{}
	for _, c := range d.Commits {
		commits = append(commits, map[string]string{"sha": c.SHA, "author": "dev", "time": ts(c.Time)})
	}
	custom := map[string]any{"team": d.Team, "service": d.Service, "digest": d.Digest, "repository": "https://git.example/" + d.Service,
		"previousDigest": d.Previous, "commits": commits, "deployedAt": ts(d.At)}
	if len(commits) > 0 {
		custom["commit"] = commits[len(commits)-1]["sha"]
	}
	if d.Resolves != nil {
		custom["resolves"] = d.Resolves
	}
	content := map[string]any{"environment": map[string]string{"id": env}}
	if d.Digest != "" {
		content["artifactId"] = purl(d.Service, d.Digest)
	}
	return Event{
		"specversion": "1.0", "id": d.ID, "source": d.Source, "type": typ, "time": ts(d.At), "subject": d.Service,
		"datacontenttype": "application/json",
		"data": map[string]any{
			"context":               map[string]any{"id": d.ID, "source": d.Source, "type": typ, "timestamp": ts(d.At), "version": "0.4.1"},
			"subject":               map[string]any{"id": d.Service, "source": d.Source, "type": "service", "content": content},
			"customDataContentType": "application/json",
			"customData":            custom,
		},
	}
}

// Event returns in as a CloudEvent.
func (in Incident) Event() Event {
	kind := in.Kind
	if kind == "" {
		kind = "detected"
	}
	env := in.Environment
	if env == "" {
		env = "production"
	}
	typ := "dev.cdevents.incident." + kind + ".0.2.0"
	content := map[string]any{"environment": map[string]string{"id": env}, "description": "test"}
	if in.Service != "" {
		content["service"] = map[string]string{"id": in.Service}
	}
	if in.Digest != "" {
		content["artifactId"] = purl(in.Service, in.Digest)
	}
	data := map[string]any{
		"context": map[string]any{"id": in.ID, "source": in.Source, "type": typ, "timestamp": ts(in.At), "version": "0.4.1"},
		"subject": map[string]any{"id": in.Incident, "source": in.Source, "type": "incident", "content": content},
	}
	if in.Team != "" {
		data["customDataContentType"] = "application/json"
		data["customData"] = map[string]string{"team": in.Team, "service": in.Service}
	}
	return Event{"specversion": "1.0", "id": in.ID, "source": in.Source, "type": typ, "time": ts(in.At), "subject": in.Incident, "datacontenttype": "application/json", "data": data}
}

// JSON is e in structured mode.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// Batch is events as an application/cloudevents-batch+json body.
func Batch(events ...Event) []byte {
	if events == nil {
		events = []Event{}
	}
	b, err := json.Marshal(events)
	if err != nil {
		panic(err)
	}
	return b
}
