package commands

import "github.com/spf13/cobra"

// newDora is paved dora: DORA's four keys, from the events paved and other
// tools emit.
func newDora() *cobra.Command {
	c := &cobra.Command{
		Use:   "dora",
		Short: "DORA: record incidents; the collector computes the four keys and serves, prints and exports them",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(newDoraServe(), newDoraMetrics(), newDoraExport(), newDoraIncident())
	return c
}
