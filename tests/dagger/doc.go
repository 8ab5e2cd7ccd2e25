// Package daggertest is the harness that proves paved's Dagger module
// (dagger.json at the repository root) against a real Dagger engine, built
// from the Go module proxy and run in namespaces of its own, with no Docker
// and no network: see TestDagger and the README's "Dagger" section.
package daggertest
