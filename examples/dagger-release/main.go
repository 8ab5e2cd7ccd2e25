// A team's release pipeline on paved's road: it installs paved's Dagger
// module (dagger install github.com/pavedhq/paved) and runs paved's own
// steps, with a step of the team's between them — the golden path's escape
// hatch, without leaving the road.
package main

import (
	"context"
	"fmt"
	"strings"

	"dagger/release/internal/dagger"
)

type Release struct{}

// Release tests the service with paved, applies the team's release gate (no
// skipped tests), then publishes with paved's go-service golden path. It
// prints one line per step, in the order they ran.
func (m *Release) Release(
	ctx context.Context,
	// the service's source
	source *dagger.Directory,
	// registry repository to publish to, host[:port]/path
	address string,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
	// air-gapped vulnerability databases for paved's scan
	// +optional
	vulnDb *dagger.Directory,
	// the source's commit, when the source has no .git
	// +optional
	commit string,
	// the source's repository URL
	// +optional
	repo string,
	// paved's image as an OCI archive, for engines that cannot pull it
	// +optional
	imageArchive *dagger.File,
	// GOPROXY for the service's modules
	// +optional
	goproxy string,
) (string, error) {
	paved := dag.Paved(dagger.PavedOpts{ImageArchive: imageArchive, Goproxy: goproxy})
	var log strings.Builder

	// paved's step: go vet, go test with the coverage gate, JUnit.
	tested := paved.Test(source)
	passed, err := tested.Passed(ctx)
	if err != nil {
		return "", err
	}
	skipped, err := tested.Skipped(ctx)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&log, "paved test: %d passed, %d skipped\n", passed, skipped)

	// The team's own step: a release carries no skipped test.
	if skipped > 0 {
		return "", fmt.Errorf("release gate: %d skipped test(s); finish or delete them before releasing", skipped)
	}
	fmt.Fprintf(&log, "release gate: no skipped tests\n")

	// paved's golden path again (its test step is served from paved's
	// cache), publishing only what passed the gate.
	ref, err := paved.GoService(source, dagger.PavedGoServiceOpts{VulnDb: vulnDb, Commit: commit, Repo: repo}).
		Publish(ctx, address, dagger.PavedGoServicePublishOpts{Registry: registry})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&log, "paved go-service publish: %s\n", ref)
	return log.String(), nil
}
