// Package nodestep holds what the Node.js golden paths (ts-service and
// frontend) share: the test step (install, lint, tests with the coverage
// gate) and the cache key of a project's source and node version.
package nodestep
