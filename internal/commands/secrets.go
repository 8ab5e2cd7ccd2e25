package commands

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/pavedhq/paved/runner/events"
)

// secretVars are the variables only the worker that signs may read: the
// key's password and what keyless signing gets its OIDC token from.
// GITHUB_TOKEN is not among them: paved run never uses it, and the go
// command may need it (through GOAUTH) to fetch private modules; promote
// takes it out of the environment itself.
// PAVED_EVENTS_TOKEN is the events sinks' bearer token: paved itself sends
// it, and no step needs it.
var secretVars = []string{"COSIGN_PASSWORD", "SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", events.TokenEnv}

// secrets are the signing secrets, held in memory once taken out of the
// environment.
type secrets map[string]string

// Getenv looks a secret up as os.Getenv would have.
func (s secrets) Getenv(k string) string { return s[k] }

type secretsKey struct{}

// takeSecrets moves the signing secrets from the environment into the
// command's context before anything runs, in every command: go test runs
// the service's own code, and whatever a step starts inherits the
// environment. Only the signing worker is handed them, explicitly.
func takeSecrets(c *cobra.Command, _ []string) {
	s := secrets{}
	for _, k := range secretVars {
		if v, ok := os.LookupEnv(k); ok {
			s[k] = v
			os.Unsetenv(k)
		}
	}
	ctx := c.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	c.SetContext(context.WithValue(ctx, secretsKey{}, s))
}

// secretsFrom returns the secrets takeSecrets kept for this command.
func secretsFrom(ctx context.Context) secrets {
	s, _ := ctx.Value(secretsKey{}).(secrets)
	return s
}
