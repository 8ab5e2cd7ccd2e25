package commands

import "github.com/spf13/cobra"

func newSign(version string) *cobra.Command {
	return newVerb(version, "sign", "Sign a published image index and each platform manifest (cosign's classic layout)",
		"  COSIGN_PASSWORD=… paved sign localhost:5000/team/svc@sha256:… --key cosign.key", "go-sign",
		func(o *RunOptions, c *cobra.Command) { o.addSigningFlags(c.Flags()) })
}
