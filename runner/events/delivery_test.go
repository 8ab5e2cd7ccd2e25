package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pavedhq/paved/internal/flock"
)

// collector is a real HTTP receiver that counts what it acknowledged, by
// event id, and can be taken down (nothing listens on its port) and
// brought back up on the same address.
type collector struct {
	t    *testing.T
	addr string

	mu     sync.Mutex
	got    map[string]int
	reqs   []*http.Request
	srv    *http.Server
	status int // answer with this instead of 202 when set
	// delay slows each answer, as a loaded collector would: concurrent
	// senders then overlap on the same entries.
	delay time.Duration
	// hold, when set, is signalled with each request and the request is
	// then never answered (a receiver that hangs, for a crash mid-send).
	hold chan string
	// arrived, when set, is told the next request's event id once, and
	// that request is answered only when resume is closed.
	arrived chan string
	resume  chan struct{}
}

func newCollector(t *testing.T) *collector {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{t: t, addr: ln.Addr().String(), got: map[string]int{}}
	ln.Close() // down until up()
	t.Cleanup(c.down)
	return c
}

func (c *collector) url() string { return "http://" + c.addr + "/v1/events" }

func (c *collector) up() {
	c.t.Helper()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(c.serve)}
	c.mu.Lock()
	c.srv = srv
	c.mu.Unlock()
	go srv.Serve(ln)
}

func (c *collector) down() {
	c.mu.Lock()
	srv := c.srv
	c.srv = nil
	c.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

func (c *collector) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("Ce-Id")
	if id == "" { // structured mode
		var ev struct {
			ID string `json:"id"`
		}
		json.Unmarshal(body, &ev)
		id = ev.ID
	}
	c.mu.Lock()
	hold, status := c.hold, c.status
	arrived, resume := c.arrived, c.resume
	c.arrived = nil
	c.reqs = append(c.reqs, r.Clone(context.Background()))
	if hold == nil && status == 0 {
		c.got[id]++
	}
	c.mu.Unlock()
	if arrived != nil {
		arrived <- id
		<-resume
	}
	if hold != nil {
		hold <- id
		<-r.Context().Done()
		return
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	time.Sleep(c.delay)
	w.WriteHeader(http.StatusAccepted)
}

func (c *collector) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.got {
		out[k] = v
	}
	return out
}

// exactlyOnce checks that the collector took each of ids once and nothing
// else.
func (c *collector) exactlyOnce(t *testing.T, ids []string) {
	t.Helper()
	got := c.counts()
	for _, id := range ids {
		id += "/incident.detected"
		if got[id] != 1 {
			t.Errorf("event %s arrived %d times, want 1", id, got[id])
		}
	}
	if len(got) != len(ids) {
		t.Errorf("collector took %d distinct events, want %d", len(got), len(ids))
	}
}

func testEvent(t testing.TB, id string) *Event {
	ev, err := Origin{Team: "pay", Service: "api"}.IncidentEvent(IncidentDetected, Incident{ID: id, Environment: "production", Time: time.Unix(1767225600, 0)})
	if err != nil {
		panic(err)
	}
	return ev
}

// emitRun is one paved process: its own spool handle on the shared
// directory, a few events, one delivery pass.
func emitRun(t testing.TB, dir string, sinks []Spec, ids []string) *Delivery {
	sp, err := OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	em := &Emitter{Spool: sp, Sinks: sinks}
	for _, id := range ids {
		em.Emit(context.Background(), testEvent(t, id), nil)
	}
	d := em.Deliver(context.Background(), false, 10*time.Second)
	d.Warnings = em.Warnings()
	return d
}

func spoolLeft(t *testing.T, dir string) int {
	t.Helper()
	sp, _ := OpenSpool(dir)
	es, err := sp.Entries()
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestSinkDownForThreeRunsThenUp: three runs while the collector is down
// each warn and keep their events; the fourth run, with it up, delivers
// every event of all four exactly once and leaves the spool empty.
func TestSinkDownForThreeRunsThenUp(t *testing.T) {
	c := newCollector(t)
	dir := t.TempDir()
	sinks := []Spec{Spec(c.url())}
	var all []string
	for run := 1; run <= 4; run++ {
		if run == 4 {
			c.up()
		}
		var ids []string
		for i := 0; i < 5; i++ {
			ids = append(ids, fmt.Sprintf("run%d-ev%d", run, i))
		}
		all = append(all, ids...)
		d := emitRun(t, dir, sinks, ids)
		if run < 4 {
			if d.Delivered != 0 || d.PendingTotal() != len(all) {
				t.Fatalf("run %d with the sink down: delivered %d, pending %d; want 0 and %d", run, d.Delivered, d.PendingTotal(), len(all))
			}
			if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "connection refused") || !strings.Contains(d.Warnings[0], "stay in the spool") {
				t.Errorf("run %d warnings %q, want one saying the sink is down and the events stay", run, d.Warnings)
			}
			continue
		}
		if d.Delivered != len(all) || d.PendingTotal() != 0 || len(d.Warnings) != 0 {
			t.Fatalf("run 4: delivered %d, pending %d, warnings %q; want %d, 0, none", d.Delivered, d.PendingTotal(), d.Warnings, len(all))
		}
	}
	c.exactlyOnce(t, all)
	if n := spoolLeft(t, dir); n != 0 {
		t.Errorf("%d entries left in the spool", n)
	}
}

// TestBackoffHoldsUntilTheSinkAnswers: an entry that failed waits out its
// back-off on a later pass, unless the sink takes something else in that
// pass or the pass is forced (paved events flush).
func TestBackoffHoldsUntilTheSinkAnswers(t *testing.T) {
	c := newCollector(t)
	dir := t.TempDir()
	sp, _ := OpenSpool(dir)
	em := &Emitter{Spool: sp, Sinks: []Spec{Spec(c.url())}}
	em.Emit(context.Background(), testEvent(t, "old"), nil)
	if d := em.Deliver(context.Background(), false, 0); d.PendingTotal() != 1 {
		t.Fatalf("pending %d, want 1", d.PendingTotal())
	}
	es, _ := sp.Entries()
	if es[0].Attempts != 1 || time.Until(es[0].Next) < BackoffMin-time.Minute/2 {
		t.Fatalf("after one failure: attempts %d, next in %v", es[0].Attempts, time.Until(es[0].Next))
	}
	c.up()
	if d := em.Deliver(context.Background(), false, 0); d.Delivered != 0 || d.PendingTotal() != 1 {
		t.Fatalf("in back-off: delivered %d, pending %d; want 0, 1", d.Delivered, d.PendingTotal())
	}
	if d := em.Deliver(context.Background(), true, 0); d.Delivered != 1 {
		t.Fatalf("forced: delivered %d, want 1", d.Delivered)
	}
	c.exactlyOnce(t, []string{"old"})
	if got := []time.Duration{backoff(1), backoff(2), backoff(3), backoff(100)}; got[0] != BackoffMin || got[1] != 2*BackoffMin || got[2] != 4*BackoffMin || got[3] != BackoffMax {
		t.Errorf("back-off %v", got)
	}
}

const helperEnv = "PAVED_EVENTS_TEST_HELPER"

// TestMain lets the tests start this binary as another paved process.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

// helper is a separate process emitting and delivering events: "emit DIR
// URL PREFIX N" spools N events and delivers; "hold DIR URL ID" spools one
// and sends it to a receiver that never answers.
func helper() int {
	args := strings.Fields(os.Getenv(helperEnv))
	sp, err := OpenSpool(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	em := &Emitter{Spool: sp, Sinks: []Spec{Spec(args[2])}}
	switch args[0] {
	case "emit":
		n, _ := strconv.Atoi(args[4])
		for i := 0; i < n; i++ {
			em.Emit(context.Background(), testEvent(nil, fmt.Sprintf("%s-%d", args[3], i)), nil)
		}
	case "hold":
		em.Emit(context.Background(), testEvent(nil, args[3]), nil)
	}
	em.Deliver(context.Background(), false, time.Minute)
	return 0
}

func helperCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join(args, " "))
	cmd.Stderr = os.Stderr
	return cmd
}

// TestConcurrentProcessesShareTheSpool: four processes spool while the
// sink is down, then four more deliver all at once with it up: every
// event arrives once, none is lost, none twice.
func TestConcurrentProcessesShareTheSpool(t *testing.T) {
	c := newCollector(t)
	dir := t.TempDir()
	var all []string
	wave := func(prefix string, n int) {
		var cmds []*exec.Cmd
		for p := 0; p < 4; p++ {
			pre := fmt.Sprintf("%s%d", prefix, p)
			for i := 0; i < n; i++ {
				all = append(all, fmt.Sprintf("%s-%d", pre, i))
			}
			cmd := helperCmd(t, "emit", dir, c.url(), pre, strconv.Itoa(n))
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, cmd)
		}
		for _, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
		}
	}
	wave("down", 25)
	if n := spoolLeft(t, dir); n != 100 {
		t.Fatalf("%d entries spooled while the sink was down, want 100", n)
	}
	c.delay = 5 * time.Millisecond
	c.up()
	wave("up", 5)
	c.exactlyOnce(t, all)
	if n := spoolLeft(t, dir); n != 0 {
		t.Errorf("%d entries left in the spool", n)
	}
}

// TestCrashWhileSending: a process is killed (SIGKILL) after it spooled an
// event and while its request is in flight, unanswered. The next process
// delivers the event.
func TestCrashWhileSending(t *testing.T) {
	c := newCollector(t)
	c.hold = make(chan string, 1)
	c.up()
	dir := t.TempDir()
	cmd := helperCmd(t, "hold", dir, c.url(), "crash-1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if id := <-c.hold; id != "crash-1/incident.detected" {
		t.Fatalf("receiver got %q", id)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	c.mu.Lock()
	c.hold = nil
	c.mu.Unlock()

	if d := emitRun(t, dir, []Spec{Spec(c.url())}, nil); d.Delivered != 1 {
		t.Fatalf("after the crash: delivered %d, warnings %q; want 1", d.Delivered, d.Warnings)
	}
	c.exactlyOnce(t, []string{"crash-1"})
}

// TestModesAndToken: binary mode puts the attributes in ce- headers,
// structured mode sends the whole CloudEvent as application/cloudevents+json;
// both carry the bearer token, which never reaches the spool or a warning.
func TestModesAndToken(t *testing.T) {
	c := newCollector(t)
	c.up()
	const token = "s3cr3t-token-value"
	for _, mode := range []string{"binary", "structured"} {
		dir := t.TempDir()
		spec, err := ParseSpec(mode + "+" + c.url())
		if err != nil {
			t.Fatal(err)
		}
		sp, _ := OpenSpool(dir)
		em := &Emitter{Spool: sp, Sinks: []Spec{spec}, Token: token}
		em.Emit(context.Background(), testEvent(t, "mode-"+mode), nil)
		// Look at the spool before delivering: no token in it.
		walkSpool(t, dir, func(b []byte) {
			if strings.Contains(string(b), token) {
				t.Errorf("the spool holds the token")
			}
		})
		if d := em.Deliver(context.Background(), false, 0); d.Delivered != 1 {
			t.Fatalf("%s: delivered %d, warnings %q", mode, d.Delivered, d.Warnings)
		}
		c.mu.Lock()
		r := c.reqs[len(c.reqs)-1]
		c.mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("%s: Authorization %q", mode, got)
		}
		ct := r.Header.Get("Content-Type")
		switch mode {
		case "binary":
			if r.Header.Get("Ce-Id") != "mode-binary/incident.detected" || r.Header.Get("Ce-Specversion") != "1.0" || !strings.HasPrefix(ct, "application/json") {
				t.Errorf("binary: ce-id %q, content type %q", r.Header.Get("Ce-Id"), ct)
			}
		case "structured":
			if r.Header.Get("Ce-Id") != "" || !strings.HasPrefix(ct, "application/cloudevents+json") {
				t.Errorf("structured: ce-id %q, content type %q", r.Header.Get("Ce-Id"), ct)
			}
		}
	}
	// Over plain http to another host the token is refused, not sent.
	if _, err := Spec("http://collector.example.com/v1/events").Open(token, nil); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("token over plain http: %v", err)
	}
	if _, err := ParseSpec("https://user:" + token + "@collector.example.com/"); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("credentials in the URL: %v", err)
	}
}

func walkSpool(t *testing.T, dir string, f func([]byte)) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f(b)
	}
}

// TestRejectedEventIsDropped: a sink that answers 400 will answer it
// again; the event is dropped with a warning naming it, so it does not
// clog the spool, while a 503 keeps it.
func TestRejectedEventIsDropped(t *testing.T) {
	c := newCollector(t)
	c.up()
	for status, kept := range map[int]bool{http.StatusBadRequest: false, http.StatusServiceUnavailable: true} {
		c.mu.Lock()
		c.status = status
		c.mu.Unlock()
		dir := t.TempDir()
		d := emitRun(t, dir, []Spec{Spec(c.url())}, []string{fmt.Sprintf("rej-%d", status)})
		if left := spoolLeft(t, dir); (left == 1) != kept {
			t.Errorf("%d: %d entries left", status, left)
		}
		if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], strconv.Itoa(status)) {
			t.Errorf("%d: warnings %q", status, d.Warnings)
		}
	}
}

// TestSpoolFull: at its bound the spool refuses the event, says so, and
// paved sends it once directly; with the sink down it is dropped, and the
// warning names it.
func TestSpoolFull(t *testing.T) {
	c := newCollector(t)
	dir := t.TempDir()
	sp, _ := OpenSpool(dir)
	one, _ := (&Record{V: recordVersion, Sink: Spec(c.url()), Event: testEvent(t, "fill-0")}).Marshal()
	sp.MaxBytes = int64(len(one))*5/2 + 50
	em := &Emitter{Spool: sp, Sinks: []Spec{Spec(c.url())}}
	for i := 0; i < 3; i++ {
		em.Emit(context.Background(), testEvent(t, fmt.Sprintf("fill-%d", i)), nil)
	}
	w := strings.Join(em.Warnings(), "\n")
	if !strings.Contains(w, "is full") || !strings.Contains(w, "dropped dev.cdevents.incident.detected.0.3.0 fill-2/incident.detected") {
		t.Errorf("warnings %q, want the spool full and fill-2 dropped", w)
	}
	c.up()
	em.Emit(context.Background(), testEvent(t, "direct"), nil)
	if w := em.Warnings(); len(w) != 1 || !strings.Contains(w[0], "sends it once now") {
		t.Errorf("warnings %q", w)
	}
	if c.counts()["direct/incident.detected"] != 1 {
		t.Error("the event the full spool refused was not sent directly")
	}
}

// TestFileSink: file: appends one CloudEvent per line, synced, and the
// lines read back as the events.
func TestFileSink(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "deployments.jsonl")
	spec, err := ParseSpec("file:" + out)
	if err != nil {
		t.Fatal(err)
	}
	d := emitRun(t, t.TempDir(), []Spec{spec}, []string{"f1", "f2"})
	if d.Delivered != 2 {
		t.Fatalf("delivered %d, warnings %q", d.Delivered, d.Warnings)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Validate() != nil {
			t.Errorf("line %q: %v", l, errors.Join(err, ev.Validate()))
		}
	}
}

// TestSlowSinkCostsOneTimeout: a sink that accepts and never answers
// costs the first pass its time-out; later passes of the same process
// leave it alone, and the events wait in the spool.
func TestSlowSinkCostsOneTimeout(t *testing.T) {
	c := newCollector(t)
	c.hold = make(chan string, 10)
	c.up()
	sp, _ := OpenSpool(t.TempDir())
	em := &Emitter{Spool: sp, Sinks: []Spec{Spec(c.url())}}
	em.Emit(context.Background(), testEvent(t, "slow-1"), nil)
	if d := em.Deliver(context.Background(), false, 300*time.Millisecond); d.PendingTotal() != 1 || !d.TimedOut[Spec(c.url())] {
		t.Fatalf("first pass: pending %d, timed out %v", d.PendingTotal(), d.TimedOut)
	}
	<-c.hold
	em.Emit(context.Background(), testEvent(t, "slow-2"), nil)
	start := time.Now()
	if d := em.Deliver(context.Background(), false, time.Minute); d.PendingTotal() != 2 || time.Since(start) > 5*time.Second {
		t.Fatalf("second pass: pending %d after %v", d.PendingTotal(), time.Since(start))
	}
	select {
	case id := <-c.hold:
		t.Errorf("the slow sink was tried again (%s)", id)
	default:
	}
	if w := em.Warnings(); len(w) != 1 || !strings.Contains(w[0], "deadline") {
		t.Errorf("warnings %q", w)
	}
}

// TestOwnEventAnotherProcessTried: another process takes this process's
// event from the shared spool first. This process never says nothing
// about its event, which its user would take for delivery: it waits for
// the other process to let go, then counts the event as delivered (gone
// from the spool) or warns that it waits there.
func TestOwnEventAnotherProcessTried(t *testing.T) {
	for _, other := range []string{"delivers it", "is killed sending it", "finds the sink down"} {
		t.Run(other, func(t *testing.T) {
			c, c2 := newCollector(t), newCollector(t)
			c2.up()
			dir := t.TempDir()
			sp, _ := OpenSpool(dir)
			em := &Emitter{Spool: sp, Sinks: []Spec{Spec(c.url())}}
			em.Emit(context.Background(), testEvent(t, "mine"), nil)
			path := filepath.Join(dir, entryName(Spec(c.url()), testEvent(t, "mine")))

			var release func()
			switch other {
			case "delivers it":
				// This test plays the other process: it holds the entry
				// as a sender does, then removes it as one that got it
				// through does.
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := flock.Exclusive(f); err != nil {
					t.Fatal(err)
				}
				release = func() { os.Remove(path); f.Close() }
			case "is killed sending it":
				// A real process sends the oldest entry, ours, to a
				// receiver that holds the request; its own event goes to
				// another sink, which this process delivers.
				c.hold = make(chan string, 1)
				c.up()
				cmd := helperCmd(t, "hold", dir, c2.url(), "other")
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				if id := <-c.hold; id != "mine/incident.detected" {
					t.Fatalf("the other process sent %q first", id)
				}
				release = func() { cmd.Process.Kill(); cmd.Wait() }
			case "finds the sink down":
				// The other process's pass fails on it before this one
				// delivers: the entry is in back-off, so this pass does
				// not try it.
				if d := emitRun(t, dir, nil, nil); d.Delivered != 0 || d.PendingTotal() != 1 {
					t.Fatalf("the other process: delivered %d, pending %d", d.Delivered, d.PendingTotal())
				}
			}
			done := make(chan *Delivery, 1)
			go func() { done <- em.Deliver(context.Background(), false, time.Minute) }()
			if release != nil {
				waitForLockWaiter(t, path)
				release()
			}
			d := <-done
			warnings := em.Warnings()
			if other == "delivers it" {
				if d.Mine != 0 || len(warnings) != 0 {
					t.Fatalf("own events left %d, warnings %q; want 0 and none", d.Mine, warnings)
				}
				return
			}
			if d.Mine != 1 || d.PendingTotal() != 1 || len(warnings) != 1 || !strings.Contains(warnings[0], "mine") || !strings.Contains(warnings[0], dir) {
				t.Fatalf("own events left %d, pending %d, warnings %q; want 1, 1 and one naming the event and the spool", d.Mine, d.PendingTotal(), warnings)
			}
			if other == "finds the sink down" {
				// Told once: the next pass, still in back-off, says no more.
				em.Deliver(context.Background(), false, time.Minute)
				if w := em.Warnings(); len(w) != 0 {
					t.Errorf("second pass warned again: %q", w)
				}
				return
			}
			// The killed sender left no back-off: with the receiver
			// answering, this process's next pass delivers the event.
			c2.exactlyOnce(t, []string{"other"})
			c.mu.Lock()
			c.hold = nil
			c.mu.Unlock()
			if d := em.Deliver(context.Background(), false, time.Minute); d.Delivered != 1 || d.Mine != 0 {
				t.Errorf("next pass: delivered %d, own events left %d; want 1, 0", d.Delivered, d.Mine)
			}
			c.exactlyOnce(t, []string{"mine"})
		})
	}
}

// waitForLockWaiter returns once a process waits for a lock on path: the
// kernel lists waiters in /proc/locks with "->".
func waitForLockWaiter(t *testing.T, path string) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	suffix := ":" + strconv.FormatUint(st.Ino, 10)
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatalf("reading the kernel's lock table: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, "->") {
				continue
			}
			for _, f := range strings.Fields(line) {
				if strings.Count(f, ":") == 2 && strings.HasSuffix(f, suffix) {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process waited for the lock on %s in 30s", path)
		}
		runtime.Gosched()
	}
}

// TestEventEmittedDuringAPass: an event spooled while a pass is sending is
// the next pass's. The pass that began before it neither counts it as
// left nor warns about it (a run emits while its first pass delivers).
func TestEventEmittedDuringAPass(t *testing.T) {
	c := newCollector(t)
	c.arrived, c.resume = make(chan string, 1), make(chan struct{})
	c.up()
	sp, _ := OpenSpool(t.TempDir())
	em := &Emitter{Spool: sp, Sinks: []Spec{Spec(c.url())}}
	em.Emit(context.Background(), testEvent(t, "first"), nil)
	done := make(chan *Delivery, 1)
	go func() { done <- em.Deliver(context.Background(), false, time.Minute) }()
	if id := <-c.arrived; id != "first/incident.detected" {
		t.Fatalf("the pass sent %q", id)
	}
	em.Emit(context.Background(), testEvent(t, "second"), nil)
	close(c.resume)
	if d := <-done; d.Delivered != 1 || d.Mine != 0 {
		t.Errorf("first pass: delivered %d, own events left %d; want 1, 0", d.Delivered, d.Mine)
	}
	if w := em.Warnings(); len(w) != 0 {
		t.Errorf("first pass warned: %q", w)
	}
	if d := em.Deliver(context.Background(), false, time.Minute); d.Delivered != 1 || d.Mine != 0 {
		t.Errorf("second pass: delivered %d, own events left %d; want 1, 0", d.Delivered, d.Mine)
	}
	c.exactlyOnce(t, []string{"first", "second"})
}
