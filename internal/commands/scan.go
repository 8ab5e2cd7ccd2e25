package commands

import "github.com/spf13/cobra"

func newScan(version string) *cobra.Command {
	return newVerb(version, "scan", "Scan a published image (Trivy) and its source (govulncheck), with the gate of paved.yaml",
		"  paved scan localhost:5000/team/svc@sha256:… --source . --vuln-db DIR", "go-scan",
		func(o *RunOptions, c *cobra.Command) { o.addScanFlags(c.Flags()) })
}
