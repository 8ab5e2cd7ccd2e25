package pipelines

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/pavedhq/paved/runner"
)

// Execute runs the prepared graph with r's cache, progress and tracing,
// and returns the filled report, also written to <source>/.paved/report.json.
// The error is the outcome's: nil when every step succeeded.
func (run *Run) Execute(ctx context.Context, r *runner.Runner) (*runner.Report, error) {
	start := run.Started
	if start.IsZero() {
		start = time.Now()
	}
	rep := runner.NewReport(run.Pipeline, run.Context, start)
	if run.ID != "" {
		rep.RunID = run.ID
	}
	rep.Warnings = append(rep.Warnings, run.Warnings...)
	rep.Team, rep.Service = run.Config.Team, run.ServiceName()
	if r.Tracing != nil {
		c, sp := r.Tracing.Start(ctx, "paved run "+run.Pipeline,
			attribute.String("paved.pipeline", run.Pipeline),
			attribute.String("paved.run_id", rep.RunID),
			attribute.String("vcs.revision", run.Context.Commit))
		defer sp.End()
		ctx = c
	}
	ev := run.events(ctx, rep)
	if ev != nil {
		ev.start(ctx, start)
		withEvents := *r
		withEvents.Progress = &stepEvents{Progress: r.Progress, e: ev}
		r = &withEvents
	}
	o, err := r.Run(ctx, run.Graph)
	if err != nil {
		return nil, err
	}
	// Fill reads the steps' files; after it, they can go.
	defer o.Close()
	rep.Finish(o, time.Now())
	var fillErr error
	if run.Fill != nil {
		fillErr = run.Fill(rep, o)
	}
	// A sink outage is a warning, never a failed run.
	rep.Warnings = append(rep.Warnings, ev.finish(ctx, rep)...)
	// Step errors and test output may quote URLs with credentials.
	rep.Redact()
	// The report is what CI and the front doors read: one that cannot be
	// written fails the run rather than leave an older run's in its place.
	var writeErr error
	if err := os.MkdirAll(run.OutputDir, 0o755); err != nil {
		writeErr = fmt.Errorf("run report: %w", err)
	} else {
		writeErr = rep.WriteFile(filepath.Join(run.OutputDir, "report.json"))
	}
	if o.Err != nil {
		return rep, errors.Join(o.Err, writeErr)
	}
	return rep, errors.Join(fillErr, writeErr)
}
