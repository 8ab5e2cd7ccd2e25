package test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// collect feeds a go test -json stream through readLines, ParseEvent and a
// Collector, as Run does.
func collect(t testing.TB, stream string) []Suite {
	t.Helper()
	var c Collector
	err := readLines(strings.NewReader(stream), func(line []byte) {
		if e, err := ParseEvent(line); err == nil {
			c.Add(e)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.Suites()
}

func at(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm
}

func TestCollector(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		want   []Suite
	}{{
		name: "pass skip and subtest failure",
		stream: `{"Time":"2025-01-02T03:04:05Z","Action":"start","Package":"m/b"}
{"Time":"2025-01-02T03:04:06Z","Action":"run","Package":"m/b","Test":"TestG"}
{"Action":"output","Package":"m/b","Test":"TestG","Output":"=== RUN   TestG\n"}
{"Action":"run","Package":"m/b","Test":"TestG/sub"}
{"Action":"output","Package":"m/b","Test":"TestG/sub","Output":"    b_test.go:3: boom\n"}
{"Action":"fail","Package":"m/b","Test":"TestG/sub","Elapsed":0.25}
{"Action":"output","Package":"m/b","Test":"TestG","Output":"--- FAIL: TestG (0.25s)\n"}
{"Action":"fail","Package":"m/b","Test":"TestG","Elapsed":0.5}
{"Action":"run","Package":"m/b","Test":"TestS"}
{"Action":"output","Package":"m/b","Test":"TestS","Output":"    b_test.go:4: nope\n"}
{"Action":"skip","Package":"m/b","Test":"TestS","Elapsed":0}
{"Action":"run","Package":"m/b","Test":"TestP"}
{"Action":"output","Package":"m/b","Test":"TestP","Output":"chatter\n"}
{"Action":"pass","Package":"m/b","Test":"TestP","Elapsed":1}
{"Action":"output","Package":"m/b","Output":"FAIL\n"}
{"Action":"fail","Package":"m/b","Elapsed":2.5}
{"Time":"2025-01-02T03:04:00Z","Action":"start","Package":"m/a"}
{"Action":"output","Package":"m/a","Output":"?   \tm/a\t[no test files]\n"}
{"Action":"skip","Package":"m/a","Elapsed":0}
`,
		want: []Suite{
			{Package: "m/a", Start: at("2025-01-02T03:04:00Z"), Status: Skip, Output: "?   \tm/a\t[no test files]\n", Cases: []Case{}},
			{
				Package: "m/b", Start: at("2025-01-02T03:04:05Z"), Status: Fail, Elapsed: 2500 * time.Millisecond, Output: "FAIL\n",
				Cases: []Case{
					{Name: "TestG", Status: Fail, Elapsed: 500 * time.Millisecond, Output: "=== RUN   TestG\n--- FAIL: TestG (0.25s)\n"},
					{Name: "TestG/sub", Status: Fail, Elapsed: 250 * time.Millisecond, Output: "    b_test.go:3: boom\n"},
					{Name: "TestS", Status: Skip, Output: "    b_test.go:4: nope\n"},
					{Name: "TestP", Status: Pass, Elapsed: time.Second}, // a passing test's output is dropped
				},
			},
		},
	}, {
		name: "build failure of the test binary",
		stream: `{"ImportPath":"m/a [m/a.test]","Action":"build-output","Output":"# m/a [m/a.test]\n"}
{"ImportPath":"m/a [m/a.test]","Action":"build-output","Output":"a/a_test.go:3:43: cannot use 1\n"}
{"ImportPath":"m/a [m/a.test]","Action":"build-fail"}
{"Action":"start","Package":"m/a"}
{"Action":"output","Package":"m/a","Output":"FAIL\tm/a [build failed]\n"}
{"Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":"m/a [m/a.test]"}
`,
		want: []Suite{{
			Package: "m/a", Status: Fail, BuildFailed: true,
			Output: "# m/a [m/a.test]\na/a_test.go:3:43: cannot use 1\nFAIL\tm/a [build failed]\n",
			Cases:  []Case{},
		}},
	}, {
		name: "a broken dependency fails its importers and gets its own suite",
		stream: `{"ImportPath":"m/dep","Action":"build-output","Output":"dep/dep.go:1:1: expected 'package'\n"}
{"ImportPath":"m/dep","Action":"build-fail"}
{"Action":"start","Package":"m/a"}
{"Action":"fail","Package":"m/a","FailedBuild":"m/dep"}
{"ImportPath":"m/other [m/other.test]","Action":"build-output","Output":"x\n"}
{"ImportPath":"m/other [m/other.test]","Action":"build-fail"}
`,
		want: []Suite{
			{Package: "m/a", Status: Fail, BuildFailed: true, Output: "dep/dep.go:1:1: expected 'package'\n", Cases: []Case{}},
			{Package: "m/other", Status: Fail, BuildFailed: true, Output: "x\n"},
		},
	}, {
		name: "a test that never finished keeps its output",
		stream: `{"Action":"run","Package":"m/a","Test":"TestHang"}
{"Action":"output","Package":"m/a","Test":"TestHang","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"m/a","Output":"FAIL\tm/a\t1.0s\n"}
{"Action":"fail","Package":"m/a","Elapsed":1}
`,
		want: []Suite{{
			Package: "m/a", Status: Fail, Elapsed: time.Second, Output: "FAIL\tm/a\t1.0s\n",
			Cases: []Case{{Name: "TestHang", Output: "panic: test timed out after 1s\n"}},
		}},
	}, {
		name: "lines that are not events are ignored",
		stream: `not json
{"Action":"","Package":"m/a"}
{"Action":"pass","Test":"TestNoPackage"}
{"Action":"pass","Package":"m/a","Test":"TestA","Elapsed":-3}
`,
		want: []Suite{{Package: "m/a", Cases: []Case{{Name: "TestA", Status: Pass}}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, collect(t, tc.stream)); diff != "" {
				t.Errorf("Suites (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailuresOf(t *testing.T) {
	suites := []Suite{
		{Package: "m/a", Status: Fail, Cases: []Case{
			{Name: "TestParent", Status: Fail, Output: "=== RUN   TestParent\n--- FAIL: TestParent (0.00s)\n"},
			{Name: "TestParent/sub", Status: Fail, Output: "=== RUN   TestParent/sub\n    a_test.go:1: sub broke\n"},
			{Name: "TestOwn", Status: Fail, Output: "    a_test.go:2: parent broke too\n"},
			{Name: "TestOwn/sub", Status: Fail, Output: "    a_test.go:3: sub broke\n"},
			{Name: "TestFine", Status: Pass},
		}},
		{Package: "m/b", Status: Fail, BuildFailed: true, Output: "b.go:1: syntax error\n"},
		{Package: "m/c", Status: Fail, Output: "TestMain exited\n"},
		{Package: "m/d", Status: Pass, Cases: []Case{{Name: "TestD", Status: Pass}}},
	}
	want := []Failure{
		{Package: "m/a", Test: "TestParent/sub", Output: "    a_test.go:1: sub broke\n"},
		{Package: "m/a", Test: "TestOwn", Output: "    a_test.go:2: parent broke too\n"},
		{Package: "m/a", Test: "TestOwn/sub", Output: "    a_test.go:3: sub broke\n"},
		{Package: "m/b", Output: "b.go:1: syntax error\n"},
		{Package: "m/c", Output: "TestMain exited\n"},
	}
	if diff := cmp.Diff(want, failuresOf(suites)); diff != "" {
		t.Errorf("failuresOf (-want +got):\n%s", diff)
	}
}

// TestOutputIsBounded checks that a test printing far more than the limit
// keeps only the tail, and says how much it dropped.
func TestOutputIsBounded(t *testing.T) {
	var c Collector
	c.Add(Event{Action: "run", Package: "m/a", Test: "TestChatty"})
	line := strings.Repeat("x", 99) + "\n"
	const lines = 10_000 // ~1 MB, far over the limit
	for i := 0; i < lines; i++ {
		c.Add(Event{Action: "output", Package: "m/a", Test: "TestChatty", Output: line})
		if n := len(c.pkgs["m/a"].tests["TestChatty"].out.buf); n > 2*maxTestOutput+len(line) {
			t.Fatalf("after %d lines the buffer holds %d bytes", i+1, n)
		}
	}
	c.Add(Event{Action: "output", Package: "m/a", Test: "TestChatty", Output: "the end\n"})
	c.Add(Event{Action: "fail", Package: "m/a", Test: "TestChatty"})
	out := c.Suites()[0].Cases[0].Output
	if len(out) > maxTestOutput+100 {
		t.Errorf("kept %d bytes of output, limit %d", len(out), maxTestOutput)
	}
	if !strings.HasSuffix(out, line+"the end\n") {
		t.Errorf("output does not end with the last lines: ...%q", out[max(0, len(out)-200):])
	}
	first, rest, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(first, "[... ") || !strings.HasPrefix(rest, line) {
		t.Errorf("truncated output starts with %q then %q, want a note then whole lines", first, rest[:min(len(rest), 20)])
	}
	kept := strings.Count(rest, line)
	if dropped := lines - kept; !strings.Contains(first, " "+strconv.Itoa(dropped*len(line))+" bytes") {
		t.Errorf("note %q does not say %d bytes were dropped", first, dropped*len(line))
	}
}

func TestReadLines(t *testing.T) {
	long := strings.Repeat("y", maxLine+1)
	in := "a\r\n\nb\n" + long + "\nc"
	var got []string
	if err := readLines(strings.NewReader(in), func(l []byte) {
		if l == nil {
			got = append(got, "<too long>")
			return
		}
		got = append(got, string(l))
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "", "b", "<too long>", "c"}, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// FuzzParseEvent checks that a parsed event survives a JSON round trip and
// that any event stream yields a well-formed JUnit report.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"Time":"2025-01-02T03:04:05Z","Action":"output","Package":"m/a","Test":"TestA","Output":"hi\n"}`))
	f.Add([]byte(`{"ImportPath":"m/a [m/a.test]","Action":"build-fail"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseEvent(line)
		if err != nil {
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal %+v: %v", e, err)
		}
		e2, err := ParseEvent(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if diff := cmp.Diff(e, e2); diff != "" {
			t.Errorf("round trip (-first +second):\n%s", diff)
		}
		// The same event as a test, a package and a build event.
		var c Collector
		c.Add(e)
		e.Test = ""
		c.Add(e)
		e.ImportPath = e.Package
		e.Action = "build-fail"
		c.Add(e)
		var buf strings.Builder
		if err := WriteJUnit(&buf, c.Suites()); err != nil {
			t.Fatal(err)
		}
		parseJUnit(t, []byte(buf.String()))
	})
}
