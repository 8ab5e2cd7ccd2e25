package commands

import "github.com/spf13/cobra"

func newAttest(version string) *cobra.Command {
	return newVerb(version, "attest", "Attach signed SLSA provenance (of the source's commit) and SBOM attestations to a published image",
		"  COSIGN_PASSWORD=… paved attest localhost:5000/team/svc@sha256:… --source . --key cosign.key", "go-attest",
		func(o *RunOptions, c *cobra.Command) { o.addSigningFlags(c.Flags()) })
}
