// Package testtools builds the reference command-line tools paved's tests
// check their output with (the cosign CLI), once per version, and caches the
// binaries between test runs.
package testtools
