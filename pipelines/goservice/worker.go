package goservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pavedhq/paved/internal/worker"
	"github.com/pavedhq/paved/runner"
)

// WorkerBinary is the name of the binary that runs the supply-chain steps.
const WorkerBinary = worker.Binary

// WorkRequest is what paved sends the worker on stdin.
type WorkRequest struct {
	Step   string                    `json:"step"`
	Config json.RawMessage           `json:"config"`
	Deps   map[string]WorkDependency `json:"deps"`
	OutDir string                    `json:"outDir"`
}

// WorkDependency is a finished step's result as the worker sees it.
type WorkDependency struct {
	Value json.RawMessage `json:"value"`
	Dir   string          `json:"dir"`
}

// WorkResponse is what the worker answers on stdout.
type WorkResponse struct {
	Result *runner.Result `json:"result,omitempty"`
	Error  string         `json:"error,omitempty"`
}

func findWorker() (worker.Worker, error) { return worker.Find() }

// runWorker runs one step in the worker. secrets ("NAME=value") are given
// to the worker's environment alone.
func runWorker(ctx context.Context, step string, cfg any, in runner.Inputs, secrets []string) (*runner.Result, error) {
	w, err := findWorker()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	req := WorkRequest{Step: step, Config: raw, Deps: map[string]WorkDependency{}, OutDir: in.OutDir}
	for name, r := range in.Deps {
		req.Deps[name] = WorkDependency{Value: r.Value, Dir: r.Dir}
	}
	var resp WorkResponse
	if err := w.Call(ctx, nil, secrets, req, &resp, nil); err != nil {
		return nil, fmt.Errorf("%s step: %w", step, err)
	}
	if resp.Error != "" {
		return resp.Result, errors.New(resp.Error)
	}
	if resp.Result == nil {
		return nil, fmt.Errorf("%s step in %s: no result", step, w.Path)
	}
	return resp.Result, nil
}
