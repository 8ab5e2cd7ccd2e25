package commands

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// New returns the paved command tree.
func New(version string, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "paved",
		Short:         "Golden paths from commit to a tested, signed, attested and promoted OCI image",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Before any command runs a step, whether it signs or not.
		PersistentPreRun: takeSecrets,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	root.AddCommand(
		newVersion(version),
		newRun(version),
		newBuild(version),
		newTest(version),
		newSBOM(version),
		newScan(version),
		newSign(version),
		newAttest(version),
		newVerify(),
		newPolicy(),
		newPromote(),
		newCache(),
		newEventsCommand(),
		newDora(),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &UsageError{Err: fmt.Errorf("%s takes %d argument(s), got %d (see '%s --help')", c.CommandPath(), n, len(args), c.CommandPath())}
		}
		return nil
	}
}
