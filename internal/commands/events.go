package commands

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pavedhq/paved/runner/events"
)

func addEventsFlag(fs *pflag.FlagSet, to *[]string) {
	fs.StringArrayVar(to, "events", nil, "send CDEvents to this sink: an http(s) URL (binary mode; structured+URL for structured), file:PATH (JSON lines) or stdout (repeatable; also paved.yaml events: and $"+events.EnvSinks+"; bearer token from $"+events.TokenEnv+")")
}

// newEmitter gathers the sinks from flags, the service's paved.yaml (whose
// file: paths are relative to dir) and the environment. It returns nil
// when there is no sink and nothing waits in the spool.
func newEmitter(c *cobra.Command, flags, config []string, dir string) (*events.Emitter, error) {
	for i, s := range config {
		if p, ok := strings.CutPrefix(s, "file:"); ok && !filepath.IsAbs(p) && dir != "" {
			config[i] = "file:" + filepath.Join(dir, p)
		}
	}
	sinks, err := events.Sinks(flags, config, os.Getenv(events.EnvSinks))
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	token := secretsFrom(c.Context()).Getenv(events.TokenEnv)
	if len(sinks) == 0 {
		return &events.Emitter{}, nil
	}
	for _, s := range sinks {
		// A token that could not be sent safely is bad usage now, not a
		// warning on every run.
		if _, err := s.Open(token, nil); err != nil {
			return nil, &UsageError{Err: err}
		}
	}
	em := events.NewEmitter(sinks, token)
	em.Stdout = c.OutOrStdout()
	return em, nil
}

func newEventsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "events",
		Short: "Work with the CDEvents spool: what paved emitted and no sink has taken yet",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	var timeout time.Duration
	flush := &cobra.Command{
		Use:   "flush",
		Short: "Send every spooled event to its sink now, whatever its back-off; exit 1 if any is left",
		Example: `  paved events flush
  PAVED_EVENTS_TOKEN=… paved events flush --timeout 1m`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			em := events.NewEmitter(nil, secretsFrom(c.Context()).Getenv(events.TokenEnv))
			em.Stdout = c.OutOrStdout()
			if em.Spool == nil {
				return errors.Join(errors.New("no events spool"), errors.New(strings.Join(em.Warnings(), "; ")))
			}
			d := em.Deliver(c.Context(), true, timeout)
			stderr := c.ErrOrStderr()
			for _, w := range em.Warnings() {
				fmt.Fprintf(stderr, "paved: warning: %s\n", w)
			}
			fmt.Fprintf(stderr, "paved: events: %d delivered, %d waiting in %s\n", d.Delivered, d.PendingTotal(), em.Spool.Dir())
			if n := d.PendingTotal(); n > 0 {
				return fmt.Errorf("%d event(s) not delivered; they stay in the spool", n)
			}
			return nil
		},
	}
	flush.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up (keeping what is left) after this long")
	c.AddCommand(flush)
	return c
}
