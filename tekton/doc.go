// Package tekton generates paved's Tekton front door: a tekton.dev/v1 Task
// per verb and a Pipeline per golden path, laid out as the Tekton catalog
// lays out its resources (task/NAME/VERSION/NAME.yaml).
//
// The Tasks are built from the CLI's own command tree, so a Task's params
// are the command's flags (name, description, default): a flag added,
// renamed or re-documented in internal/commands changes the YAML, and the
// tests fail until it is regenerated. The generator is a separate program
// (go run ./gen), so the paved binary never links tektoncd/pipeline.
package tekton

//go:generate go run ./gen
