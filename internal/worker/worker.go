// Package worker finds and calls paved-worker, the binary that links
// Syft, Trivy and cosign so that paved itself starts in milliseconds.
// Requests and answers are JSON on the worker's stdin and stdout.
package worker

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Binary is the worker's name (cmd/paved-worker). paved looks for it
// beside its own executable, then on PATH; $PAVED_WORKER names it outright.
const Binary = "paved-worker"

// Worker is a located worker binary.
type Worker struct {
	Path string
	// Identity names the worker's build (its Syft, Trivy and cosign
	// versions) for cache keys, read from its build information.
	Identity string
}

var (
	once   sync.Once
	found  Worker
	errFnd error
)

// Find locates the worker, once per process.
func Find() (Worker, error) {
	once.Do(func() { found, errFnd = find() })
	return found, errFnd
}

func find() (Worker, error) {
	path := os.Getenv("PAVED_WORKER")
	if path == "" {
		if self, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(self), Binary); isFile(p) {
				path = p
			}
		}
	}
	if path == "" {
		p, err := exec.LookPath(Binary)
		if err != nil {
			return Worker{}, fmt.Errorf("%s not found beside paved or on PATH (build both: go build -o bin/ ./cmd/...)", Binary)
		}
		path = p
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return Worker{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var id strings.Builder
	id.WriteString(bi.GoVersion + " " + bi.Main.Version)
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/anchore/syft", "github.com/aquasecurity/trivy", "github.com/sigstore/cosign/v3", "golang.org/x/vuln",
			"honnef.co/go/tools", "github.com/securego/gosec/v2", "golang.org/x/tools":
			id.WriteString(" " + d.Path + "@" + d.Version)
		}
	}
	if info, err := os.Stat(path); err == nil && bi.Main.Version == "(devel)" {
		// A development build has no version of its own.
		fmt.Fprintf(&id, " %d %d", info.Size(), info.ModTime().UnixNano())
	}
	return Worker{Path: path, Identity: id.String()}, nil
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// Call runs the worker with args, sends req as JSON on its stdin and
// decodes its stdout into resp. env ("NAME=value") is added to the
// worker's environment alone, for secrets. The worker's stderr goes to
// stderr when it is not nil, and is otherwise quoted in errors.
func (w Worker) Call(ctx context.Context, args, env []string, req, resp any, stderr io.Writer) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, w.Path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(body)
	var stdout, errBuf bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &errBuf
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, &errBuf)
	}
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A worker that failed or was killed may have written an answer, or
	// part of one, first: only a clean exit makes it the answer.
	if runErr != nil {
		return fmt.Errorf("%s: %w: %s", w.command(args), runErr, tail(errBuf.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), resp); err != nil {
		return fmt.Errorf("%s: reading its answer: %w: %s", w.command(args), err, tail(errBuf.String()))
	}
	return nil
}

func (w Worker) command(args []string) string {
	return strings.TrimSpace(w.Path + " " + strings.Join(args, " "))
}

// tail keeps the end of a worker's stderr for an error message.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}
