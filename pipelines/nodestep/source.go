package nodestep

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// SkipSource leaves out what no step reads as source: installed and
// generated directories, version control, paved's outputs.
func SkipSource(rel string, d fs.DirEntry) bool {
	if !d.IsDir() {
		return false
	}
	switch filepath.Base(rel) {
	case "node_modules", ".git", pipelines.OutputDir, "coverage", ".idea", ".vscode":
		return true
	}
	return false
}

// SourceKey starts a step key with node's version and the files of the
// project in dir, but for those skip leaves out.
func SourceKey(dir string, skip func(rel string, d fs.DirEntry) bool) goservice.SourceKey {
	return func(ctx context.Context, step string) (*runner.KeyBuilder, error) {
		v, err := NodeVersion()
		if err != nil {
			return nil, err
		}
		k := runner.NewKey().String("step", step).String("node", v)
		if err := k.Dir("source", dir, skip); err != nil {
			return nil, fmt.Errorf("hashing source %s: %w", dir, err)
		}
		return k, nil
	}
}

// NodeVersion is the version of the node on PATH, which every step's key
// includes: another Node may compile, test, bundle and install
// differently.
var NodeVersion = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("node --version: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
})

// Tail keeps the end of a tool's output for an error message.
func Tail(b *bytes.Buffer) string {
	const n = 4 << 10
	s := strings.TrimSpace(b.String())
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return runner.RedactURL(s)
}
