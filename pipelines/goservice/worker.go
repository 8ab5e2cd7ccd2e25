package goservice

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pavedhq/paved/runner"
)

// WorkerBinary is the name of the binary that runs the supply-chain steps
// (cmd/paved-worker). paved looks for it beside its own executable, then on
// PATH; $PAVED_WORKER names it outright.
const WorkerBinary = "paved-worker"

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

type worker struct {
	path string
	// identity names the worker's build (its Syft, Trivy and cosign
	// versions) for cache keys, read from its build information.
	identity string
}

var (
	workerOnce sync.Once
	theWorker  worker
	workerErr  error
)

func findWorker() (worker, error) {
	workerOnce.Do(func() {
		path := os.Getenv("PAVED_WORKER")
		if path == "" {
			if self, err := os.Executable(); err == nil {
				if p := filepath.Join(filepath.Dir(self), WorkerBinary); isFile(p) {
					path = p
				}
			}
		}
		if path == "" {
			p, err := exec.LookPath(WorkerBinary)
			if err != nil {
				workerErr = fmt.Errorf("%s not found beside paved or on PATH (build both: go build -o bin/ ./cmd/...)", WorkerBinary)
				return
			}
			path = p
		}
		bi, err := buildinfo.ReadFile(path)
		if err != nil {
			workerErr = fmt.Errorf("reading %s: %w", path, err)
			return
		}
		var id strings.Builder
		id.WriteString(bi.GoVersion + " " + bi.Main.Version)
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/anchore/syft", "github.com/aquasecurity/trivy", "github.com/sigstore/cosign/v3", "golang.org/x/vuln":
				id.WriteString(" " + d.Path + "@" + d.Version)
			}
		}
		if info, err := os.Stat(path); err == nil && bi.Main.Version == "(devel)" {
			// A development build has no version of its own.
			fmt.Fprintf(&id, " %d %d", info.Size(), info.ModTime().UnixNano())
		}
		theWorker = worker{path: path, identity: id.String()}
	})
	return theWorker, workerErr
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

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
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, w.path)
	cmd.Env = append(os.Environ(), secrets...)
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var resp WorkResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		return nil, fmt.Errorf("%s step in %s: %v: %s", step, w.path, errors.Join(runErr, err), msg)
	}
	if resp.Error != "" {
		return resp.Result, errors.New(resp.Error)
	}
	if resp.Result == nil {
		return nil, fmt.Errorf("%s step in %s: no result", step, w.path)
	}
	return resp.Result, nil
}
