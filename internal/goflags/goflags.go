// Package goflags holds the build flags that every go command paved runs
// on a service shares: go test, go vet, the lint step's package loading
// and the image build. The same flags give the same compile actions, so one
// compile of each package serves them all from Go's build cache.
package goflags

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// NoDWARF has the compiler write no debug information. The image's
// binaries are linked with -s -w, which drops it, and go test's binaries
// are run, not debugged: writing it is a tenth of the compile's CPU spent
// for nothing. Stack traces come from the symbol table and keep their
// file names and lines.
const NoDWARF = "-gcflags=all=-dwarf=false"

// Flags returns the build flags for a go command given goflags, the
// GOFLAGS it sees. Its -gcflags would be replaced by NoDWARF for every
// package (the command line's win), so NoDWARF is left out when GOFLAGS
// sets any.
func Flags(goflags string) []string {
	if strings.Contains(goflags, "-gcflags") {
		return []string{"-trimpath"}
	}
	return []string{"-trimpath", NoDWARF}
}

// Lookup returns Flags for the go command run in dir with env, asking it
// for GOFLAGS, which may come from the environment or from `go env -w`.
func Lookup(ctx context.Context, dir string, env []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", "GOFLAGS")
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOFLAGS in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return Flags(strings.TrimSpace(string(out))), nil
}
