package commands

import "github.com/spf13/cobra"

// doraSubcommands are more `paved dora` verbs, added by the files that
// define them (the incident command appends its own).
var doraSubcommands []func() *cobra.Command
