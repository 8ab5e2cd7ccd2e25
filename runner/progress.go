package runner

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Progress is told when steps start and end. It is the runner's one
// channel to people: modules never print.
type Progress interface {
	Started(step string)
	Finished(r StepReport)
}

// Folder folds a block of a CI log under a title, as GitHub Actions'
// ::group:: does; the block may be anything a step or a tool printed.
type Folder interface {
	Fold(w io.Writer, title, body string)
}

// Display shows progress on a writer: a live status line per running step
// on a terminal, plain lines otherwise (CI logs, pipes).
type Display struct {
	w       io.Writer
	live    bool
	fold    Folder
	now     func() time.Time
	mu      sync.Mutex
	running map[string]time.Time
	drawn   int // live lines on screen below the log
	stop    chan struct{}
	stopped chan struct{}
}

var _ Progress = (*Display)(nil)

// NewDisplay writes to w, live when w is a terminal that can redraw.
func NewDisplay(w io.Writer) *Display {
	live := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		live = true
	}
	d := &Display{w: w, live: live, now: time.Now, running: map[string]time.Time{}}
	if live {
		d.stop, d.stopped = make(chan struct{}), make(chan struct{})
		go d.tick()
	}
	return d
}

func (d *Display) Started(step string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running[step] = d.now()
	if !d.live {
		fmt.Fprintf(d.w, "paved: %s started\n", step)
		return
	}
	d.redraw("")
}

func (d *Display) Finished(r StepReport) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.running, r.Name)
	line := FormatStep(r)
	if !d.live && d.fold != nil {
		title := r
		title.Error = ""
		d.fold.Fold(d.w, "paved: "+FormatStep(title), StepDetail(r))
		return
	}
	if !d.live {
		fmt.Fprintf(d.w, "paved: %s\n", line)
		return
	}
	d.redraw(line)
}

// FoldSteps makes the plain lines of a CI log fold each finished step's
// details (what it needed, the cache, its whole error) under its line.
func (d *Display) FoldSteps(f Folder) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fold = f
}

// Close stops redrawing; the last state stays on screen.
func (d *Display) Close() {
	if d.live {
		close(d.stop)
		<-d.stopped
		d.mu.Lock()
		d.redraw("")
		d.mu.Unlock()
	}
}

func (d *Display) tick() {
	defer close(d.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.mu.Lock()
			d.redraw("")
			d.mu.Unlock()
		}
	}
}

var spinner = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

// redraw erases the live lines, prints a finished line if any, and draws a
// line per running step. Callers hold d.mu.
func (d *Display) redraw(finished string) {
	var b strings.Builder
	for range d.drawn {
		b.WriteString("\x1b[1A\x1b[2K")
	}
	if finished != "" {
		b.WriteString(finished + "\n")
	}
	names := make([]string, 0, len(d.running))
	for n := range d.running {
		names = append(names, n)
	}
	sort.Strings(names)
	now := d.now()
	for _, n := range names {
		el := now.Sub(d.running[n])
		frame := spinner[int(el/(100*time.Millisecond))%len(spinner)]
		fmt.Fprintf(&b, "%c %-10s %5.1fs\n", frame, n, el.Seconds())
	}
	d.drawn = len(names)
	io.WriteString(d.w, b.String())
}

// StepDetail is what a folded step line holds: what the step needed, where
// its result came from, and its whole error.
func StepDetail(r StepReport) string {
	var b strings.Builder
	if len(r.Needs) > 0 {
		fmt.Fprintf(&b, "needs: %s\n", strings.Join(r.Needs, ", "))
	}
	if len(r.After) > 0 {
		fmt.Fprintf(&b, "after: %s\n", strings.Join(r.After, ", "))
	}
	switch {
	case r.Status == Skipped:
	case r.Cached:
		b.WriteString("result: from the step cache\n")
	default:
		fmt.Fprintf(&b, "result: ran in %s\n", (time.Duration(r.DurationMs) * time.Millisecond).String())
	}
	if r.Summary != "" {
		fmt.Fprintf(&b, "summary: %s\n", r.Summary)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	return b.String()
}

// FormatStep renders one finished step for people.
func FormatStep(r StepReport) string {
	var b strings.Builder
	mark := map[Status]string{Succeeded: "✓", Failed: "✗", Skipped: "-"}[r.Status]
	fmt.Fprintf(&b, "%s %s %s", mark, r.Name, r.Status)
	if r.Status != Skipped {
		fmt.Fprintf(&b, " in %s", (time.Duration(r.DurationMs) * time.Millisecond).String())
	}
	if r.Cached {
		b.WriteString(" (cached)")
	}
	if r.Summary != "" {
		b.WriteString(": " + r.Summary)
	}
	if r.Error != "" {
		b.WriteString(": " + r.Error)
	}
	return b.String()
}
