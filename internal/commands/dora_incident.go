package commands

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner/events"
)

func newDoraIncident() *cobra.Command {
	c := &cobra.Command{
		Use:   "incident",
		Short: "Record an incident in a service's environment (incident.detected / incident.resolved CDEvents)",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(incidentVerb("open", events.IncidentDetected), incidentVerb("resolve", events.IncidentResolved))
	return c
}

func incidentVerb(verb string, t events.Type) *cobra.Command {
	var (
		in            events.Incident
		team, service string
		source, at    string
		sinks         []string
	)
	c := &cobra.Command{
		Use:   verb + " --service S --environment E [--artifact PURL] [--id ID]",
		Short: map[string]string{"open": "Report that an incident started (incident.detected); prints its id", "resolve": "Report that an incident is over (incident.resolved)"}[verb],
		Example: map[string]string{
			"open":    "  paved dora incident open --service api --environment production \\\n      --artifact 'pkg:oci/api@sha256:…?repository_url=registry.example.com/prod/api' --events https://dora.example.com/v1/events",
			"resolve": "  paved dora incident resolve --service api --environment production --id INC-42",
		}[verb],
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := pipelines.LoadConfig(source)
			if err != nil {
				return err
			}
			if team == "" {
				team = cfg.Team
			}
			if service == "" {
				service = cfg.Service
			}
			if service == "" {
				return &UsageError{Err: errors.New("--service is required (or service: in paved.yaml, see --source)")}
			}
			if strings.TrimSpace(in.Environment) == "" {
				return &UsageError{Err: errors.New("--environment is required")}
			}
			if in.ArtifactID != "" && !strings.HasPrefix(in.ArtifactID, "pkg:") {
				return &UsageError{Err: fmt.Errorf("--artifact %q: want a package URL, pkg:oci/<name>@sha256:…?repository_url=…", in.ArtifactID)}
			}
			switch {
			case in.ID == "" && t == events.IncidentResolved:
				return &UsageError{Err: errors.New("--id is required: the id incident open printed")}
			case in.ID == "":
				var b [4]byte
				rand.Read(b[:])
				in.ID = "inc-" + time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
			}
			in.Time = time.Now()
			if at != "" {
				if in.Time, err = time.Parse(time.RFC3339, at); err != nil {
					return &UsageError{Err: fmt.Errorf("--at %q: want RFC 3339, such as 2026-03-02T09:00:00Z", at)}
				}
			}
			em, err := newEmitter(c, sinks, cfg.Events, source)
			if err != nil {
				return err
			}
			if !em.Enabled() {
				return &UsageError{Err: fmt.Errorf("no events sink: name one with --events, events: in paved.yaml or $%s", events.EnvSinks)}
			}
			ev, err := events.Origin{Team: team, Service: service}.IncidentEvent(t, in)
			if err != nil {
				return &UsageError{Err: err}
			}
			em.Emit(c.Context(), ev, nil)
			d := em.Deliver(c.Context(), false, pipelines.DeliverTimeout)
			for _, w := range em.Warnings() {
				fmt.Fprintf(c.ErrOrStderr(), "paved: warning: %s\n", w)
			}
			if d.Mine > 0 {
				fmt.Fprintf(c.ErrOrStderr(), "paved: %s %s is spooled; paved events flush (or the next run) sends it\n", t, in.ID)
			}
			_, err = fmt.Fprintln(c.OutOrStdout(), in.ID)
			return err
		},
	}
	fs := c.Flags()
	fs.StringVar(&service, "service", "", "the service (default: service: in the paved.yaml in --source)")
	fs.StringVar(&team, "team", "", "the team (default: team: in the paved.yaml in --source)")
	fs.StringVar(&in.Environment, "environment", "production", "the environment")
	fs.StringVar(&in.ArtifactID, "artifact", "", "the image at fault, as a package URL: the collector attributes the incident to its deployment (else to the one live when it opened)")
	fs.StringVar(&in.ID, "id", "", "the incident's id, such as your pager's (default for open: a new one, printed)")
	fs.StringVar(&in.Description, "description", "", "one line on what happened")
	fs.StringVar(&at, "at", "", "when it happened, RFC 3339 (default now)")
	fs.StringVar(&source, "source", ".", "service directory whose paved.yaml gives team, service and events sinks")
	addEventsFlag(fs, &sinks)
	return c
}
