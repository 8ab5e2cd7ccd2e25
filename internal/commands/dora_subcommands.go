package commands

import "github.com/spf13/cobra"

// doraSubcommands are more verbs under paved dora, defined with them (the
// incident command's file defines this list with its verb; drop this file
// when that one is present).
var doraSubcommands []func() *cobra.Command
