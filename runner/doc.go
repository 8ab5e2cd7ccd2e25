// Package runner executes a pipeline as a graph of steps.
//
// A Step is one small interface. Behaviour every step shares — the
// content-addressed cache, tracing, progress — is added by wrappers that
// implement Step themselves (see wrap.go), so a step only does its own work.
// Independent steps run concurrently; a failed step skips its dependents.
// The runner records what happened in a Report, the versioned JSON document
// front doors and scripts read.
package runner
