package pipelines

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/runner"
	"github.com/pavedhq/paved/runner/events"
)

type okStep struct{}

func (okStep) Name() string { return "ok" }
func (okStep) Run(context.Context, runner.Inputs) (*runner.Result, error) {
	return runner.NewResult("done", "done")
}

func newRun(t *testing.T, out string) *Run {
	t.Helper()
	g := &runner.Graph{}
	g.Add(okStep{})
	return &Run{Pipeline: "p", Graph: g, OutputDir: out}
}

func TestExecuteWritesTheReport(t *testing.T) {
	out := filepath.Join(t.TempDir(), ".paved")
	if _, err := newRun(t, out).Execute(context.Background(), &runner.Runner{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); err != nil {
		t.Fatal(err)
	}
}

// A run whose report cannot be written fails, naming the report: CI would
// otherwise read no report, or an older run's.
func TestExecuteFailsWhenTheReportCannotBeWritten(t *testing.T) {
	for name, prepare := range map[string]func(out string) error{
		// .paved is a file, so the directory cannot be made.
		"no directory": func(out string) error { return os.WriteFile(out, nil, 0o644) },
		// report.json is a directory, so the rename over it fails.
		"report is a directory": func(out string) error { return os.MkdirAll(filepath.Join(out, "report.json", "x"), 0o755) },
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), ".paved")
			if err := prepare(out); err != nil {
				t.Fatal(err)
			}
			rep, err := newRun(t, out).Execute(context.Background(), &runner.Runner{})
			if err == nil {
				t.Fatal("Execute succeeded without writing the report")
			}
			if !strings.Contains(err.Error(), "run report") {
				t.Errorf("error %q does not name the run report", err)
			}
			if rep == nil {
				t.Error("no report returned")
			}
		})
	}
}

type failStep struct{}

func (failStep) Name() string { return "test" }
func (failStep) Run(context.Context, runner.Inputs) (*runner.Result, error) {
	return nil, errors.New("2 tests failed against https://user:pw@proxy.example.com")
}

// TestExecuteEmitsRunEvents: a run emits pipelinerun queued, started and
// finished around taskrun started and finished for each step, through the
// spool into a file sink, with the failure and its outcome, and without
// URL credentials.
func TestExecuteEmitsRunEvents(t *testing.T) {
	dir := t.TempDir()
	sink := filepath.Join(dir, "events.jsonl")
	sp, err := events.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	g := &runner.Graph{}
	g.Add(okStep{})
	g.Add(failStep{})
	run := &Run{Pipeline: "p", Graph: g, OutputDir: filepath.Join(dir, ".paved"), Config: Config{Team: "pay", Service: "api"},
		Context: runner.RunContext{Dir: dir, Commit: strings.Repeat("c", 40)},
		Events:  &events.Emitter{Spool: sp, Sinks: []events.Spec{events.Spec("file:" + sink)}}}
	rep, err := run.Execute(context.Background(), &runner.Runner{Concurrency: 1})
	if err == nil {
		t.Fatal("the failing step did not fail the run")
	}
	b, rerr := os.ReadFile(sink)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if strings.Contains(string(b), "pw@") {
		t.Error("an event holds URL credentials")
	}
	var types []string
	var finished struct {
		Data struct {
			Subject struct {
				Content struct{ Outcome, Errors string }
			}
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev events.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Source() != "paved/pay/api" || !strings.HasPrefix(ev.ID(), rep.RunID+"/") {
			t.Errorf("event %s from %s", ev.ID(), ev.Source())
		}
		typ := string(events.TypeOf(ev.Type()))
		if typ == "taskrun.started" || typ == "taskrun.finished" {
			typ += " " + strings.TrimPrefix(ev.Subject(), rep.RunID+"/")
		}
		types = append(types, typ)
		if typ == "pipelinerun.finished" {
			json.Unmarshal([]byte(line), &finished)
		}
	}
	sort.Strings(types[2 : len(types)-1]) // steps run in any order
	want := []string{"pipelinerun.queued", "pipelinerun.started", "taskrun.finished ok", "taskrun.finished test", "taskrun.started ok", "taskrun.started test", "pipelinerun.finished"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("event types (-want +got):\n%s", diff)
	}
	if c := finished.Data.Subject.Content; c.Outcome != "failure" || !strings.Contains(c.Errors, "step test: 2 tests failed") {
		t.Errorf("pipelinerun.finished content %+v", c)
	}
	if es, _ := sp.Entries(); len(es) != 0 {
		t.Errorf("%d events left in the spool", len(es))
	}
}

// TestSinkOutageWarns: with the events sink down the run still succeeds;
// the report warns and the events wait in the spool.
func TestSinkOutageWarns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/v1/events"
	ln.Close()
	dir := t.TempDir()
	sp, _ := events.OpenSpool(filepath.Join(dir, "spool"))
	run := newRun(t, filepath.Join(dir, ".paved"))
	run.Config.Service = "api"
	run.Events = &events.Emitter{Spool: sp, Sinks: []events.Spec{events.Spec(url)}}
	rep, err := run.Execute(context.Background(), &runner.Runner{})
	if err != nil {
		t.Fatalf("a sink outage failed the run: %v", err)
	}
	w := strings.Join(rep.Warnings, "\n")
	if strings.Count(w, "did not take") != 1 {
		t.Errorf("want one warning for the sink, however many passes failed: %q", rep.Warnings)
	}
	if !strings.Contains(w, "did not take") || !strings.Contains(w, "connection refused") || !strings.Contains(w, "stay in the spool") {
		t.Errorf("report warnings %q", rep.Warnings)
	}
	if es, _ := sp.Entries(); len(es) != 5 {
		t.Errorf("%d events in the spool, want 5 (queued, started, step started and finished, finished)", len(es))
	}
}
