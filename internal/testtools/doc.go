// Package testtools holds the real parts paved's tests run against: the
// reference command-line tools they check paved's output with (the cosign
// CLI, built once per version by package toolcache), and local Fulcio and
// Rekor stand-ins. A test that cannot get a tool skips locally and fails in
// CI (package ci).
package testtools
