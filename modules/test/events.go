package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Event is one line of `go test -json` output: a test2json event, or one of
// the build events (build-output, build-fail) the go command interleaves
// since Go 1.24, which name the package in ImportPath instead of Package.
type Event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64 // seconds
	Output      string
	FailedBuild string // on a package "fail": the ImportPath whose build failed
	ImportPath  string // on build-output and build-fail
}

// ParseEvent decodes one line of `go test -json` output.
func ParseEvent(line []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return Event{}, fmt.Errorf("parsing test2json event: %w", err)
	}
	if e.Action == "" {
		return Event{}, errors.New("parsing test2json event: no Action")
	}
	return e, nil
}

// Status is the outcome of a test or a package, spelled as test2json does.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Suite is what one package's test run amounts to.
type Suite struct {
	Package string
	Start   time.Time
	Elapsed time.Duration
	Status  Status // "" when the package never reported a result
	// BuildFailed is set when the package (or its test binary) did not
	// compile; Output then holds the compiler's messages.
	BuildFailed bool
	Output      string // package-level output, trimmed to its tail
	Cases       []Case // in the order the tests started
}

// Case is one test or subtest (Name "TestA/sub").
type Case struct {
	Name    string
	Status  Status // "" when the test never finished
	Elapsed time.Duration
	// Output is kept for failed and skipped tests only, trimmed to its
	// tail; passing tests' output is dropped as soon as they pass.
	Output string
}

const (
	// maxTestOutput bounds what is kept of one test's (or package's) output.
	maxTestOutput = 64 << 10
	// maxSkipOutput bounds a skipped test's output: the reason is all that
	// matters there.
	maxSkipOutput = 4 << 10
	// maxLine bounds one line of the event stream; test2json splits long
	// output lines well below this.
	maxLine = 1 << 20
)

// Collector accumulates events into Suites incrementally, keeping at most
// the tail of each running test's output. The zero value is ready to use.
// A Collector is not safe for concurrent use.
type Collector struct {
	pkgs    map[string]*pkgState
	order   []string
	builds  map[string]*buildState
	bOrder  []string
	claimed map[string]bool
}

type pkgState struct {
	suite Suite
	out   tail
	tests map[string]*testState
	cases []*testState
}

type testState struct {
	c   Case
	out tail
}

type buildState struct {
	out    tail
	failed bool
}

// Add folds one event into the collector.
func (c *Collector) Add(e Event) {
	switch e.Action {
	case "build-output", "build-fail":
		c.addBuild(e)
		return
	}
	if e.Package == "" {
		return
	}
	p := c.pkg(e.Package)
	if p.suite.Start.IsZero() && !e.Time.IsZero() {
		p.suite.Start = e.Time
	}
	if e.Test == "" {
		c.addPackage(p, e)
		return
	}
	t := p.test(e.Test)
	switch e.Action {
	case "output":
		t.out.write(e.Output)
	case "pass", "fail", "skip":
		t.c.Status = Status(e.Action)
		t.c.Elapsed = seconds(e.Elapsed)
		switch t.c.Status {
		case Pass:
			t.out = tail{} // nobody reads a passing test's output
		case Skip:
			t.c.Output = t.out.tailString(maxSkipOutput)
			t.out = tail{}
		case Fail:
			t.c.Output = t.out.String()
			t.out = tail{}
		}
	}
}

func (c *Collector) addBuild(e Event) {
	if e.ImportPath == "" {
		return
	}
	if c.builds == nil {
		c.builds = map[string]*buildState{}
	}
	b, ok := c.builds[e.ImportPath]
	if !ok {
		b = &buildState{}
		c.builds[e.ImportPath] = b
		c.bOrder = append(c.bOrder, e.ImportPath)
	}
	if e.Action == "build-fail" {
		b.failed = true
		return
	}
	b.out.write(e.Output)
}

func (c *Collector) addPackage(p *pkgState, e Event) {
	switch e.Action {
	case "output":
		p.out.write(e.Output)
	case "pass", "fail", "skip":
		p.suite.Status = Status(e.Action)
		p.suite.Elapsed = seconds(e.Elapsed)
		if e.FailedBuild != "" {
			p.suite.BuildFailed = true
			if c.claimed == nil {
				c.claimed = map[string]bool{}
			}
			c.claimed[e.FailedBuild] = true
			if b, ok := c.builds[e.FailedBuild]; ok {
				// The compiler's messages come first: they are the reason.
				var t tail
				t.write(b.out.String())
				t.write(p.out.String())
				p.out = t
			}
		}
	}
}

func (c *Collector) pkg(name string) *pkgState {
	if c.pkgs == nil {
		c.pkgs = map[string]*pkgState{}
	}
	p, ok := c.pkgs[name]
	if !ok {
		p = &pkgState{suite: Suite{Package: name}, tests: map[string]*testState{}}
		c.pkgs[name] = p
		c.order = append(c.order, name)
	}
	return p
}

func (p *pkgState) test(name string) *testState {
	t, ok := p.tests[name]
	if !ok {
		t = &testState{c: Case{Name: name}}
		p.tests[name] = t
		p.cases = append(p.cases, t)
	}
	return t
}

// Suites returns the packages seen so far, sorted by package, each with its
// tests in run order. Build failures that no package claimed (a broken
// package that was not itself tested) get a suite of their own.
func (c *Collector) Suites() []Suite {
	out := make([]Suite, 0, len(c.pkgs))
	seen := map[string]bool{}
	for _, name := range c.order {
		p := c.pkgs[name]
		s := p.suite
		s.Output = p.out.String()
		s.Cases = make([]Case, 0, len(p.cases))
		for _, t := range p.cases {
			tc := t.c
			if tc.Status == "" {
				// Still running: keep what it said, it may be why the
				// package failed (a panic, a timeout).
				tc.Output = t.out.String()
			}
			s.Cases = append(s.Cases, tc)
		}
		out = append(out, s)
		seen[name] = true
	}
	for _, ip := range c.bOrder {
		b := c.builds[ip]
		if !b.failed || c.claimed[ip] {
			continue
		}
		name := packageOf(ip)
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, Suite{Package: name, Status: Fail, BuildFailed: true, Output: b.out.String()})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Package < out[j].Package })
	return out
}

// packageOf turns a build ImportPath such as "m/a [m/a.test]" into "m/a".
func packageOf(importPath string) string {
	if i := strings.Index(importPath, " ["); i > 0 {
		return importPath[:i]
	}
	return importPath
}

// failuresOf lists what went wrong, in suite order: every failed test
// except a parent that failed only because a subtest did (the subtest is
// listed), and every package that failed with no failing test to show for
// it (a build failure, TestMain exiting, a crash between tests).
func failuresOf(suites []Suite) []Failure {
	var fs []Failure
	for _, s := range suites {
		n := 0
		for i, tc := range s.Cases {
			if !failedCase(tc) {
				continue
			}
			n++
			if hasFailedChild(s.Cases, i) && onlyFraming(tc.Output) {
				continue
			}
			fs = append(fs, Failure{Package: s.Package, Test: tc.Name, Output: cleanOutput(tc.Output)})
		}
		if (s.Status == Fail || s.BuildFailed) && n == 0 {
			fs = append(fs, Failure{Package: s.Package, Output: cleanOutput(s.Output)})
		}
	}
	return fs
}

// failedCase reports whether a test failed; a test that never finished
// (the binary crashed or timed out under it) counts as failed.
func failedCase(tc Case) bool { return tc.Status == Fail || tc.Status == "" }

func hasFailedChild(cases []Case, i int) bool {
	prefix := cases[i].Name + "/"
	for _, tc := range cases {
		if failedCase(tc) && strings.HasPrefix(tc.Name, prefix) {
			return true
		}
	}
	return false
}

// framing reports whether a line is the testing package's bookkeeping
// rather than something a test said.
func framing(line string) bool {
	l := strings.TrimSpace(line)
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- FAIL:", "--- PASS:", "--- SKIP:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return l == ""
}

func onlyFraming(out string) bool {
	for _, l := range strings.Split(out, "\n") {
		if !framing(l) {
			return false
		}
	}
	return true
}

// cleanOutput drops the "=== RUN"-style lines, which say nothing about why
// a test failed.
func cleanOutput(out string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(out, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== ") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

// firstLine is the first line of out that is not framing, for the short
// message CI reporters show next to a failure.
func firstLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if !framing(l) {
			l = strings.TrimSpace(l)
			if len(l) > 200 {
				l = l[:200] + "..."
			}
			return l
		}
	}
	return ""
}

func seconds(s float64) time.Duration {
	d := s * float64(time.Second)
	if d != d || d < 0 || d > float64(1<<62) { // NaN, negative, absurd
		return 0
	}
	return time.Duration(d)
}

// tail keeps the last maxTestOutput bytes written to it.
type tail struct {
	buf     []byte
	dropped int64
}

func (t *tail) write(s string) {
	t.buf = append(t.buf, s...)
	// Compact only once the buffer holds twice the limit, so appends stay
	// amortised O(1).
	if len(t.buf) > 2*maxTestOutput {
		cut := len(t.buf) - maxTestOutput
		t.dropped += int64(cut)
		t.buf = append(t.buf[:0:0], t.buf[cut:]...)
	}
}

func (t *tail) String() string { return t.tailString(maxTestOutput) }

// tailString returns at most the last limit bytes, starting at a line
// boundary when some were dropped, and says how much was dropped.
func (t *tail) tailString(limit int) string {
	b := t.buf
	dropped := t.dropped
	if len(b) > limit {
		dropped += int64(len(b) - limit)
		b = b[len(b)-limit:]
	}
	if dropped == 0 {
		return string(b)
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
		dropped += int64(i + 1)
		b = b[i+1:]
	}
	return fmt.Sprintf("[... %d bytes of output dropped ...]\n%s", dropped, b)
}

// readLines calls fn with each line of r, without its line ending (an
// empty line is an empty, non-nil slice). A line longer than maxLine is not buffered, so a broken stream
// cannot make us hold unbounded memory: fn gets nil in its place.
func readLines(r io.Reader, fn func([]byte)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if !tooLong && len(long)+len(chunk) <= maxLine {
				long = append(long, chunk...)
			} else {
				tooLong, long = true, nil
			}
			continue
		case err != nil && !errors.Is(err, io.EOF):
			return err
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		switch {
		case tooLong || len(line) > maxLine:
			fn(nil)
		case len(line) > 0: // not the empty remainder at EOF
			l := bytes.TrimRight(line, "\r\n")
			if l == nil {
				l = []byte{}
			}
			fn(l)
		}
		tooLong = false
		if err != nil {
			return nil
		}
	}
}
