// Package test runs a Go service's tests the way CI should: with coverage,
// a coverage gate and go vet, leaving behind a JUnit XML report and the
// coverage profile for CI test reporters and later pipeline steps.
//
// Run drives the go command (go vet and go test -json) and reads its
// test2json stream as it arrives, so memory stays bounded however chatty the
// tests are. The pieces it is built from are exported so they can be used
// (and fuzzed) on their own: ParseEvent reads one line of the stream, a
// Collector turns events into per-package Suites, WriteJUnit renders Suites
// and ParseCoverProfile totals a coverage profile the way go tool cover -func
// does.
package test
