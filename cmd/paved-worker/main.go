// Command paved-worker runs paved's supply-chain work (SBOM, scan, sign,
// attest, policy evaluation) for the paved binary: it links Syft, Trivy and
// cosign so that paved itself starts in milliseconds. It reads one request
// on stdin and answers on stdout; it is not meant to be run by hand.
//
//	paved-worker            a pipeline step (goservice.WorkRequest)
//	paved-worker evaluate   a promotion policy (worker.EvaluateRequest)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/internal/worker"
	"github.com/pavedhq/paved/modules/promote/verify"
	"github.com/pavedhq/paved/pipelines/goservice/work"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Libraries linked here print progress to stdout; the answer goes to
	// the real stdout, everything else to stderr.
	out := os.Stdout
	os.Stdout = os.Stderr
	serve := work.Serve
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case worker.EvaluateTask:
			serve = evaluate
		default:
			fmt.Fprintf(os.Stderr, "paved-worker: unknown task %q\n", os.Args[1])
			os.Exit(2)
		}
	}
	if err := serve(ctx, os.Stdin, out); err != nil {
		fmt.Fprintln(os.Stderr, "paved-worker:", err)
		os.Exit(1)
	}
}

func evaluate(ctx context.Context, r io.Reader, w io.Writer) error {
	var req worker.EvaluateRequest
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the evaluate request: %w", err)
	}
	var resp worker.EvaluateResponse
	ref, err := name.NewDigest(req.Ref)
	if err == nil {
		ev := &verify.Evaluator{VulnDB: req.VulnDB}
		resp.Evaluation, err = ev.Evaluate(ctx, ref, req.Policy)
	}
	if err != nil {
		resp.Error = err.Error()
	}
	return json.NewEncoder(w).Encode(resp)
}
