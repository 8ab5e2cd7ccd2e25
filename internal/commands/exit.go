package commands

import (
	"context"
	"errors"
	"strings"

	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// Exit codes, as the README documents them.
const (
	ExitOK          = 0
	ExitFailed      = 1   // the pipeline ran and a step or gate failed
	ExitUsage       = 2   // bad flags or configuration
	ExitInterrupted = 130 // canceled by a signal (128 + SIGINT)
)

// UsageError is a mistake in how paved was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Message is err as paved prints it: with no credentials from any URL it
// quotes (a GOPROXY with a token, a git remote).
func Message(err error) string { return runner.RedactURL(err.Error()) }

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	var ce *pipelines.ConfigError
	var pe *promote.PolicyError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &pe), strings.HasPrefix(err.Error(), "unknown command"):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	default:
		return ExitFailed
	}
}
