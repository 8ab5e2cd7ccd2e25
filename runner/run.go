package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Status is how a step ended.
type Status string

const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
)

// StepReport is one step's line in the run report.
type StepReport struct {
	Name       string   `json:"name"`
	Status     Status   `json:"status"`
	Cached     bool     `json:"cached"`
	DurationMs int64    `json:"durationMs"`
	Error      string   `json:"error,omitempty"`
	Summary    string   `json:"summary,omitempty"`
	Needs      []string `json:"needs,omitempty"`
	// After names the steps this one waited for without needing them.
	After []string `json:"after,omitempty"`
}

// StepError is the error of a step that failed.
type StepError struct {
	Step string
	Err  error
}

// Error never quotes URL credentials, whatever the step's error held.
func (e *StepError) Error() string {
	return fmt.Sprintf("step %s: %s", e.Step, RedactURL(e.Err.Error()))
}
func (e *StepError) Unwrap() error { return e.Err }

// Outcome is what a run did.
type Outcome struct {
	// Steps in the order the graph declares them.
	Steps []StepReport
	// Results of the steps that produced one, by name. Failed steps may
	// have a result too (the tests that failed, say).
	Results map[string]*Result
	// Err joins the StepErrors of the failed steps; nil when all succeeded.
	Err error

	release  func() error
	closed   sync.Once
	closeErr error
}

// Close removes the run's temporary files (the work directory it made and
// what failed steps staged in the cache) and lets a prune evict the cache
// entries the run used. The Results' Dirs are gone afterwards: read or copy
// what you need first.
func (o *Outcome) Close() error {
	o.closed.Do(func() {
		if o.release != nil {
			o.closeErr = o.release()
		}
	})
	return o.closeErr
}

// Runner executes graphs. The zero value runs steps with no cache, no
// progress and no tracing.
type Runner struct {
	// Cache serves Keyed steps whose inputs are unchanged; nil disables it.
	Cache *Cache
	// Progress is told when steps start and end; nil is silent.
	Progress Progress
	// Tracing wraps each step in a span; nil records none.
	Tracing *Tracing
	// WorkDir holds the files of steps that are not cached; default a
	// temporary directory, removed when the Outcome is closed.
	WorkDir string
	// Concurrency bounds how many steps run at once; 0 means no bound.
	Concurrency int
}

// Run executes g: each step starts once all it needs have succeeded and the
// steps it runs after have ended; a step whose need failed or was skipped is
// skipped. Run returns an error only when
// the graph itself is invalid; step failures are in the Outcome, which the
// caller must Close.
func (r *Runner) Run(ctx context.Context, g *Graph) (*Outcome, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	held := &holds{}
	release := held.release
	work := r.WorkDir
	if work == "" {
		d, err := os.MkdirTemp("", "paved-run-")
		if err != nil {
			return nil, err
		}
		work = d
		release = func() error {
			err := held.release()
			if rmErr := os.RemoveAll(d); rmErr != nil {
				err = errors.Join(err, fmt.Errorf("removing the run's work directory: %w", rmErr))
			}
			return err
		}
	}
	var sem chan struct{}
	if r.Concurrency > 0 {
		sem = make(chan struct{}, r.Concurrency)
	}

	n := len(g.nodes)
	reports := make([]StepReport, n)
	results := make([]*Result, n)
	stepErrs := make([]error, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}

	var wg sync.WaitGroup
	for i, nd := range g.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			rep := &reports[i]
			rep.Name, rep.Needs, rep.After = nd.step.Name(), nd.needs, nd.after

			deps := map[string]*Result{}
			for _, need := range nd.needs {
				j := g.index[need]
				<-done[j]
				if reports[j].Status != Succeeded {
					rep.Status, rep.Error = Skipped, fmt.Sprintf("needs %s, which %s", need, reports[j].Status)
					r.finished(*rep)
					return
				}
				deps[need] = results[j]
			}
			for _, earlier := range nd.after {
				select {
				case <-done[g.index[earlier]]:
				case <-ctx.Done():
				}
			}
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
				}
			}
			if err := ctx.Err(); err != nil {
				rep.Status, rep.Error = Skipped, "canceled before it started"
				r.finished(*rep)
				return
			}

			out := filepath.Join(work, rep.Name)
			if err := os.MkdirAll(out, 0o755); err != nil {
				rep.Status, rep.Error = Failed, err.Error()
				r.finished(*rep)
				return
			}
			if r.Progress != nil {
				r.Progress.Started(rep.Name)
			}
			step := r.wrap(nd.step, held)
			start := time.Now()
			res, err := step.Run(ctx, Inputs{Deps: deps, OutDir: out})
			rep.DurationMs = time.Since(start).Milliseconds()
			if res != nil {
				if res.Dir == "" {
					res.Dir = out
				}
				rep.Cached, rep.Summary = res.Cached, RedactURL(res.Summary)
			}
			results[i] = res
			if err != nil {
				stepErrs[i] = err
				// Errors quote commands and URLs (a GOPROXY with a token):
				// the report and the progress lines get them without
				// credentials.
				rep.Status, rep.Error = Failed, RedactURL(err.Error())
				if ctx.Err() != nil && !strings.Contains(rep.Error, "cancel") {
					rep.Error += " (canceled)"
				}
			} else {
				rep.Status = Succeeded
			}
			r.finished(*rep)
		}()
	}
	wg.Wait()

	o := &Outcome{Steps: reports, Results: map[string]*Result{}, release: release}
	var errs []error
	for i, rep := range reports {
		if results[i] != nil {
			o.Results[rep.Name] = results[i]
		}
		if rep.Status == Failed {
			err := stepErrs[i]
			if err == nil {
				err = errors.New(rep.Error)
			}
			errs = append(errs, &StepError{Step: rep.Name, Err: err})
		}
	}
	if len(errs) == 0 && ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	o.Err = errors.Join(errs...)
	return o, nil
}

func (r *Runner) finished(rep StepReport) {
	if r.Progress != nil {
		r.Progress.Finished(rep)
	}
}
