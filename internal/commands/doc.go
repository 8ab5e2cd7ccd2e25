// Package commands is the paved CLI: one constructor per verb, flags in
// option structs, and no logic that a module or pipeline could own.
package commands
