// Command paved-worker runs paved's supply-chain work (SBOM, scan, sign,
// attest, policy evaluation) for the paved binary: it links Syft, Trivy and
// cosign so that paved itself starts in milliseconds. It reads one request
// (protocol.Call) on stdin and answers on stdout; it is not meant to be run
// by hand.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pavedhq/paved/pipelines/goservice/work"
	"github.com/pavedhq/paved/pipelines/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Libraries linked here print progress to stdout; the answer goes to
	// the real stdout, everything else to stderr.
	out := os.Stdout
	os.Stdout = os.Stderr
	if err := protocol.Serve(ctx, os.Stdin, out, work.Executor{}, protocol.TakeSecrets()); err != nil {
		fmt.Fprintln(os.Stderr, "paved-worker:", err)
		os.Exit(1)
	}
}
