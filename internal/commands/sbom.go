package commands

import "github.com/spf13/cobra"

func newSBOM(version string) *cobra.Command {
	return newVerb(version, "sbom", "Write SPDX and CycloneDX SBOMs of a published image (every platform) and its source",
		"  paved sbom localhost:5000/team/svc@sha256:… --source .", "go-sbom", func(*RunOptions, *cobra.Command) {})
}
