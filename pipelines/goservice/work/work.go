// Package work runs the go-service path's supply-chain steps — SBOM, scan,
// sign, attest — in paved's worker binary, which links Syft, Trivy and
// cosign so that the paved binary does not have to.
package work

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

type stepFunc func(ctx context.Context, cfg json.RawMessage, deps map[string]goservice.WorkDependency, out string) (*runner.Result, error)

var steps = map[string]stepFunc{
	"sbom":   sbomStep,
	"scan":   scanStep,
	"sign":   signStep,
	"attest": attestStep,
}

// Serve reads one WorkRequest from r, runs it and writes the WorkResponse
// to w. Secrets come from the environment and are removed from it first.
func Serve(ctx context.Context, r io.Reader, w io.Writer) error {
	var req goservice.WorkRequest
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("reading the work request: %w", err)
	}
	fn, ok := steps[req.Step]
	if !ok {
		return fmt.Errorf("unknown step %q", req.Step)
	}
	res, err := fn(ctx, req.Config, req.Deps, req.OutDir)
	resp := goservice.WorkResponse{Result: res}
	if err != nil {
		resp.Error = err.Error()
	}
	return json.NewEncoder(w).Encode(resp)
}

// secrets reads and clears the signing secrets the runner put in the
// worker's environment.
func secrets() (password []byte, token string) {
	password, token = []byte(os.Getenv("COSIGN_PASSWORD")), os.Getenv("SIGSTORE_ID_TOKEN")
	os.Unsetenv("COSIGN_PASSWORD")
	os.Unsetenv("SIGSTORE_ID_TOKEN")
	return password, token
}

func decode[T any](raw json.RawMessage) (T, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}
