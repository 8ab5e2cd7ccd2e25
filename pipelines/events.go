package pipelines

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/runner"
	"github.com/pavedhq/paved/runner/events"
)

// DeliverTimeout bounds each delivery pass of a run: a sink that is down
// or slow delays the run by at most this, and its events wait in the spool.
var DeliverTimeout = 15 * time.Second

// runEvents emits a run's CDEvents through an Emitter.
type runEvents struct {
	ctx    context.Context
	em     *events.Emitter
	origin events.Origin
	run    events.Run
}

func (run *Run) events(ctx context.Context, rep *runner.Report) *runEvents {
	if !run.Events.Enabled() {
		return nil
	}
	return &runEvents{
		ctx:    ctx,
		em:     run.Events,
		origin: events.Origin{Team: rep.Team, Service: rep.Service},
		run: events.Run{ID: rep.RunID, Pipeline: run.Pipeline, URL: run.Context.RunURL,
			Repository: run.Context.Repo, Commit: run.Context.Commit},
	}
}

// start emits queued and started, and begins delivering in the
// background (with what earlier runs left in the spool).
func (e *runEvents) start(ctx context.Context, at time.Time) {
	if e == nil {
		return
	}
	e.emit(e.origin.PipelineRun(events.PipelineRunQueued, e.run, "", "", at))
	e.emit(e.origin.PipelineRun(events.PipelineRunStarted, e.run, "", "", at))
	go e.em.Deliver(ctx, false, DeliverTimeout)
}

// finish emits the artifact events and pipelinerun.finished, delivers, and
// returns the warnings for the report.
func (e *runEvents) finish(ctx context.Context, rep *runner.Report) []string {
	if e == nil {
		return nil
	}
	at := rep.FinishedAt
	if img := rep.Image; img != nil && img.Digest != "" {
		a := artifactOf(img, rep.Service)
		e.emit(e.origin.ArtifactEvent(events.ArtifactPackaged, e.run, a.Artifact, at))
		if a.Published {
			e.emit(e.origin.ArtifactEvent(events.ArtifactPublished, e.run, a.Artifact, at))
		}
		for _, s := range rep.Signatures {
			sa := a.Artifact
			sa.Signature = s.Ref
			e.emit(e.origin.ArtifactEvent(events.ArtifactSigned, e.run, sa, at))
		}
	}
	outcome, errs := events.Success, ""
	if rep.Status != runner.Succeeded {
		outcome = events.Failure
		if ctx.Err() != nil {
			outcome = events.Cancel
		}
		var b strings.Builder
		for _, s := range rep.Steps {
			if s.Status == runner.Failed {
				fmt.Fprintf(&b, "step %s: %s; ", s.Name, s.Error)
			}
		}
		errs = clip(strings.TrimSuffix(b.String(), "; "), 2000)
	}
	e.emit(e.origin.PipelineRun(events.PipelineRunFinished, e.run, outcome, errs, at))
	e.em.Deliver(ctx, false, DeliverTimeout)
	return e.em.Warnings()
}

func (e *runEvents) emit(ev *events.Event, err error) { e.em.Emit(e.ctx, ev, err) }

type artifact struct {
	events.Artifact
	Published bool
}

// artifactOf names the image as CDEvents do: a purl with the registry
// repository, or only the service's name for an OCI layout.
func artifactOf(img *runner.ImageReport, service string) artifact {
	a := artifact{Artifact: events.Artifact{Digest: img.Digest, ID: fmt.Sprintf("pkg:oci/%s@%s", service, img.Digest)}}
	if strings.HasPrefix(img.Ref, "oci:") {
		return a
	}
	if d, err := name.NewDigest(img.Ref); err == nil {
		a.ID = events.PURL(d.RegistryStr(), d.RepositoryStr(), d.DigestStr())
		a.Published = true
	}
	return a
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// stepEvents tells the run's progress and emits taskrun events.
type stepEvents struct {
	runner.Progress
	e *runEvents
}

var _ runner.Progress = (*stepEvents)(nil)

func (s *stepEvents) Started(step string) {
	if s.Progress != nil {
		s.Progress.Started(step)
	}
	s.e.emit(s.e.origin.TaskRun(events.TaskRunStarted, s.e.run, step, "", "", time.Now()))
}

func (s *stepEvents) Finished(r runner.StepReport) {
	if s.Progress != nil {
		s.Progress.Finished(r)
	}
	outcome := events.Success
	switch r.Status {
	case runner.Failed:
		outcome = events.Failure
	case runner.Skipped:
		outcome = events.Cancel
	}
	s.e.emit(s.e.origin.TaskRun(events.TaskRunFinished, s.e.run, r.Name, outcome, clip(r.Error, 2000), time.Now()))
}
