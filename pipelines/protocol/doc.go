// Package protocol is the contract between a golden path and the code that
// runs its heavy steps (SBOM, scan, sign, attest, policy evaluation): the
// Executor interface, one typed request and result per step, and the JSON
// wire that carries them to paved-worker. Both sides import it, so a step
// renamed or changed on one side is a compile error on the other.
//
// The package is light: it links none of Syft, Trivy or cosign. Programs
// that do link them run the steps in-process (package
// github.com/pavedhq/paved/pipelines/goservice/work); paved's CLI runs them
// in paved-worker.
package protocol
