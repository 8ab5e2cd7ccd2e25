package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// funcStep is a step made of functions; tests use it to script behaviour.
type funcStep struct {
	name string
	key  func(Inputs) string
	run  func(context.Context, Inputs) (*Result, error)
	runs atomic.Int32
}

func (s *funcStep) Name() string { return s.name }
func (s *funcStep) Run(ctx context.Context, in Inputs) (*Result, error) {
	s.runs.Add(1)
	return s.run(ctx, in)
}

type keyedFuncStep struct{ *funcStep }

func (s keyedFuncStep) Key(_ context.Context, in Inputs) (string, error) { return s.key(in), nil }

func ok(summary string) func(context.Context, Inputs) (*Result, error) {
	return func(context.Context, Inputs) (*Result, error) { return NewResult(summary, summary) }
}

func statuses(o *Outcome) map[string]Status {
	m := map[string]Status{}
	for _, s := range o.Steps {
		m[s.Name] = s.Status
	}
	return m
}

func TestGraphValidate(t *testing.T) {
	s := func(n string) Step { return &funcStep{name: n, run: ok(n)} }
	tests := []struct {
		name  string
		build func(*Graph)
		want  string
	}{
		{"ok", func(g *Graph) { g.Add(s("a")); g.Add(s("b"), "a") }, ""},
		{"unknown need", func(g *Graph) { g.Add(s("a"), "zz") }, `needs unknown step "zz"`},
		{"duplicate", func(g *Graph) { g.Add(s("a")); g.Add(s("a")) }, "declared twice"},
		{"cycle", func(g *Graph) { g.Add(s("a"), "b"); g.Add(s("b"), "a") }, "cycle"},
		{"bad name", func(g *Graph) { g.Add(s("a b")) }, "no spaces"},
		{"after", func(g *Graph) { g.Add(s("a")); g.Add(s("b")); g.After("b", "a") }, ""},
		{"after unknown", func(g *Graph) { g.Add(s("a")); g.After("a", "zz") }, `runs after unknown step "zz"`},
		{"after before add", func(g *Graph) { g.After("a", "b"); g.Add(s("a")); g.Add(s("b")) }, `ordering of unknown step "a"`},
		{"after cycle", func(g *Graph) { g.Add(s("a"), "b"); g.Add(s("b")); g.After("b", "a") }, "cycle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var g Graph
			tc.build(&g)
			err := g.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRunConcurrentIndependentSteps(t *testing.T) {
	// a and b each wait for the other to have started: only a runner that
	// runs them at the same time finishes.
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	wait := func(mine, other chan struct{}) func(context.Context, Inputs) (*Result, error) {
		return func(ctx context.Context, _ Inputs) (*Result, error) {
			close(mine)
			select {
			case <-other:
				return NewResult("ok", "")
			case <-time.After(5 * time.Second):
				return nil, errors.New("ran alone")
			}
		}
	}
	var g Graph
	g.Add(&funcStep{name: "a", run: wait(aStarted, bStarted)})
	g.Add(&funcStep{name: "b", run: wait(bStarted, aStarted)})
	var got []string
	g.Add(&funcStep{name: "c", run: func(_ context.Context, in Inputs) (*Result, error) {
		for n := range in.Deps {
			got = append(got, n)
		}
		return NewResult("c", "")
	}}, "a", "b")
	o, err := (&Runner{}).Run(context.Background(), &g)
	if err != nil {
		t.Fatal(err)
	}
	if o.Err != nil {
		t.Fatalf("run failed: %v", o.Err)
	}
	if len(got) != 2 {
		t.Fatalf("c saw deps %v, want a and b", got)
	}
}

func TestRunFailureSkipsDependents(t *testing.T) {
	var g Graph
	g.Add(&funcStep{name: "test", run: func(context.Context, Inputs) (*Result, error) {
		r, _ := NewResult("partial", "1 failed")
		return r, errors.New("TestBroken failed")
	}})
	g.Add(&funcStep{name: "build", run: ok("built")})
	publish := &funcStep{name: "publish", run: ok("published")}
	g.Add(publish, "test", "build")
	g.Add(&funcStep{name: "after", run: ok("x")}, "publish")
	o, err := (&Runner{}).Run(context.Background(), &g)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{"test": Failed, "build": Succeeded, "publish": Skipped, "after": Skipped}
	for k, v := range want {
		if statuses(o)[k] != v {
			t.Errorf("step %s = %s, want %s", k, statuses(o)[k], v)
		}
	}
	if publish.runs.Load() != 0 {
		t.Error("publish ran although test failed")
	}
	var se *StepError
	if !errors.As(o.Err, &se) || se.Step != "test" || !strings.Contains(se.Error(), "TestBroken") {
		t.Fatalf("Err = %v, want a StepError for test naming TestBroken", o.Err)
	}
	if o.Results["test"] == nil || o.Results["test"].Summary != "1 failed" {
		t.Error("the failed step's result was not kept for the report")
	}
}

func TestRunAfterOrdersWithoutDepending(t *testing.T) {
	// lint runs after test, and still runs when test fails; build, with no
	// ordering, runs beside test.
	var testEnded atomic.Bool
	lintStarted, buildStarted := make(chan struct{}), make(chan struct{})
	var g Graph
	g.Add(&funcStep{name: "test", run: func(context.Context, Inputs) (*Result, error) {
		<-buildStarted
		// A runner that ignored the ordering starts lint now; give it
		// the chance to be caught before test ends.
		select {
		case <-lintStarted:
		case <-time.After(100 * time.Millisecond):
		}
		testEnded.Store(true)
		return nil, errors.New("TestBroken failed")
	}})
	lint := &funcStep{name: "lint", run: func(_ context.Context, in Inputs) (*Result, error) {
		close(lintStarted)
		if !testEnded.Load() {
			return nil, errors.New("lint started before test ended")
		}
		if len(in.Deps) != 0 {
			return nil, errors.New("an ordering gave lint a dependency's result")
		}
		return NewResult("lint", "")
	}}
	g.Add(lint)
	g.Add(&funcStep{name: "build", run: func(context.Context, Inputs) (*Result, error) {
		close(buildStarted)
		return NewResult("build", "")
	}})
	g.After("lint", "test")
	o, err := (&Runner{}).Run(context.Background(), &g)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{"test": Failed, "lint": Succeeded, "build": Succeeded}
	for k, v := range want {
		if got := statuses(o)[k]; got != v {
			t.Errorf("step %s = %s, want %s (%v)", k, got, v, o.Err)
		}
	}
	if rep := o.Steps[1]; rep.Name != "lint" || len(rep.After) != 1 || rep.After[0] != "test" || len(rep.Needs) != 0 {
		t.Errorf("lint's report = %+v, want after [test] and no needs", rep)
	}
	if d := StepDetail(o.Steps[1]); !strings.Contains(d, "after: test\n") {
		t.Errorf("lint's detail does not say what it ran after:\n%s", d)
	}
}

func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var g Graph
	g.Add(&funcStep{name: "slow", run: func(ctx context.Context, _ Inputs) (*Result, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	g.Add(&funcStep{name: "next", run: ok("x")}, "slow")
	start := time.Now()
	o, err := (&Runner{}).Run(ctx, &g)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("cancel did not stop the run promptly")
	}
	if s := statuses(o); s["slow"] != Failed || s["next"] != Skipped {
		t.Fatalf("statuses = %v", s)
	}
	if !errors.Is(o.Err, context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", o.Err)
	}
}

func TestCacheServesUnchangedKey(t *testing.T) {
	c, err := NewCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := "v1"
	s := keyedFuncStep{&funcStep{name: "build", key: func(Inputs) string { return key }, run: func(_ context.Context, in Inputs) (*Result, error) {
		if err := os.WriteFile(filepath.Join(in.OutDir, "out.txt"), []byte(key), 0o644); err != nil {
			return nil, err
		}
		return NewResult(key, "built "+key)
	}}}
	r := &Runner{Cache: c, WorkDir: t.TempDir()}
	run := func() *Outcome {
		var g Graph
		g.Add(s)
		o, err := r.Run(context.Background(), &g)
		if err != nil || o.Err != nil {
			t.Fatalf("run: %v %v", err, o.Err)
		}
		return o
	}
	first := run()
	second := run()
	if s.runs.Load() != 1 || first.Steps[0].Cached || !second.Steps[0].Cached {
		t.Fatalf("runs=%d cached=%v,%v; want one run then a hit", s.runs.Load(), first.Steps[0].Cached, second.Steps[0].Cached)
	}
	b, err := os.ReadFile(filepath.Join(second.Results["build"].Dir, "out.txt"))
	if err != nil || string(b) != "v1" {
		t.Fatalf("cached files: %q, %v", b, err)
	}
	var v string
	if err := second.Results["build"].Decode(&v); err != nil || v != "v1" {
		t.Fatalf("cached value %q, %v", v, err)
	}
	key = "v2"
	if third := run(); third.Steps[0].Cached || s.runs.Load() != 2 {
		t.Fatal("a changed key was served from the cache")
	}
}

type revalidating struct {
	keyedFuncStep
	fresh bool
}

func (r *revalidating) Revalidate(context.Context, *Result) (bool, error) { return r.fresh, nil }

func TestCacheRevalidates(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	s := &revalidating{keyedFuncStep: keyedFuncStep{&funcStep{name: "publish", key: func(Inputs) string { return "k" }, run: ok("pushed")}}}
	r := &Runner{Cache: c}
	for i, fresh := range []bool{true, true, false} {
		s.fresh = fresh
		var g Graph
		g.Add(s)
		if _, err := r.Run(context.Background(), &g); err != nil {
			t.Fatal(err)
		}
		want := []int32{1, 1, 2}[i]
		if s.runs.Load() != want {
			t.Fatalf("after run %d: %d runs, want %d", i, s.runs.Load(), want)
		}
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	fail := true
	s := keyedFuncStep{&funcStep{name: "test", key: func(Inputs) string { return "k" }, run: func(context.Context, Inputs) (*Result, error) {
		if fail {
			return nil, errors.New("flaky")
		}
		return NewResult("ok", "")
	}}}
	r := &Runner{Cache: c}
	for range 2 {
		var g Graph
		g.Add(s)
		r.Run(context.Background(), &g)
	}
	if s.runs.Load() != 2 {
		t.Fatalf("a failed result was cached: %d runs", s.runs.Load())
	}
}

func TestCacheDamagedEntryIsAMiss(t *testing.T) {
	c, _ := NewCache(t.TempDir())
	s := keyedFuncStep{&funcStep{name: "x", key: func(Inputs) string { return "k" }, run: ok("x")}}
	var g Graph
	g.Add(s)
	(&Runner{Cache: c}).Run(context.Background(), &g)
	key := hashStrings(cacheFormat, "x", "k")
	if err := os.WriteFile(filepath.Join(c.entry(key), "result.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, _ := (&Runner{Cache: c}).Run(context.Background(), &g)
	if o.Err != nil || o.Steps[0].Cached || s.runs.Load() != 2 {
		t.Fatalf("damaged entry: err=%v cached=%v runs=%d", o.Err, o.Steps[0].Cached, s.runs.Load())
	}
}
