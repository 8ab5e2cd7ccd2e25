package commands

import "github.com/pavedhq/paved/internal/worker"

// executor runs the heavy steps and policy evaluation for every command:
// paved-worker, so that paved itself links none of Syft, Trivy or cosign.
var executor = worker.Subprocess{}
