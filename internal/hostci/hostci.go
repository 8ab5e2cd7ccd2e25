package hostci

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/pavedhq/paved/runner"
)

// A Host writes a run's outcome where its CI system looks for it.
type Host interface {
	// Write translates rep; reportPath is where its JSON was written. It
	// runs after every run, succeeded or failed.
	Write(ctx context.Context, rep *runner.Report, reportPath string) error
}

// Env is what a host may read and write besides the report: the process's
// variables and the job's log.
type Env struct {
	Getenv func(string) string
	// Log is the job's log: paved's stderr, so stdout keeps only the image
	// reference or the JSON report.
	Log io.Writer
}

// OS is the environment of this process, logging to log.
func OS(log io.Writer) Env { return Env{Getenv: os.Getenv, Log: log} }

// newHost makes a host for a run it detected.
type newHost func(rc runner.RunContext, env Env) Host

var (
	mu    sync.RWMutex
	hosts = map[string]newHost{}
)

// register makes a host known by the runner's name for its environment
// (runner.RunContext.Environment); each host's file registers itself.
func register(environment string, h newHost) {
	mu.Lock()
	defer mu.Unlock()
	hosts[environment] = h
}

// For returns the host the run context names, or nil where there is none
// (a laptop).
func For(rc runner.RunContext, env Env) Host {
	mu.RLock()
	h := hosts[rc.Environment]
	mu.RUnlock()
	if h == nil {
		return nil
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Log == nil {
		env.Log = io.Discard
	}
	return h(rc, env)
}

// Environments lists the environments with a host, sorted.
func Environments() []string {
	mu.RLock()
	defer mu.RUnlock()
	var n []string
	for k := range hosts {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// within returns p relative to root when p lies inside it, slash-separated.
func within(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
