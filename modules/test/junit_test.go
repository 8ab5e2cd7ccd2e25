package test

import (
	"bytes"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The report as a CI tool reads it, declared independently of the writer.
type reportXML struct {
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []suiteXML `xml:"testsuite"`
}

type suiteXML struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Skipped   int       `xml:"skipped,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr"`
	Cases     []caseXML `xml:"testcase"`
}

type caseXML struct {
	Classname string `xml:"classname,attr"`
	Name      string `xml:"name,attr"`
	Time      string `xml:"time,attr"`
	Failure   *struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
}

func parseJUnit(t testing.TB, b []byte) reportXML {
	t.Helper()
	var doc reportXML
	d := xml.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("not well-formed JUnit XML: %v\n%s", err, b)
	}
	return doc
}

// readJUnit parses a report file back with encoding/xml.
func readJUnit(t *testing.T, path string) reportXML {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseJUnit(t, b)
}

func TestWriteJUnit(t *testing.T) {
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	suites := []Suite{
		{
			Package: "m/a",
			Start:   start,
			Elapsed: 1500 * time.Millisecond,
			Status:  Fail,
			Cases: []Case{
				{Name: "TestOK", Status: Pass, Elapsed: 10 * time.Millisecond},
				{Name: "TestBad", Status: Fail, Output: "=== RUN   TestBad\n    a_test.go:3: got <1> & \x00\r\nwant 2\n--- FAIL: TestBad (0.00s)\n"},
				{Name: "TestBad/sub", Status: Skip, Output: "    a_test.go:9: later\n"},
				{Name: "TestHung", Output: "panic: test timed out\n"},
			},
		},
		{Package: "m/b", Status: Fail, BuildFailed: true, Output: "b_test.go:1:1: syntax error\n"},
		{Package: "m/c", Status: Fail, Output: "exit status 3\n"},
		{Package: "m/d", Status: Skip},
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, suites); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header) {
		t.Errorf("report does not start with the XML header:\n%s", buf.String())
	}
	got := parseJUnit(t, buf.Bytes())
	type failure = struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type skipped = struct {
		Message string `xml:"message,attr"`
	}
	want := reportXML{
		Tests: 6, Failures: 4, Skipped: 1, Time: "1.500",
		Suites: []suiteXML{
			{
				Name: "m/a", Tests: 4, Failures: 2, Skipped: 1, Time: "1.500", Timestamp: "2025-03-04T04:06:07",
				Cases: []caseXML{
					{Classname: "m/a", Name: "TestOK", Time: "0.010"},
					{Classname: "m/a", Name: "TestBad", Time: "0.000", Failure: &failure{
						Message: "Failed",
						Text:    "    a_test.go:3: got <1> & \uFFFD\r\nwant 2\n--- FAIL: TestBad (0.00s)\n",
					}},
					{Classname: "m/a", Name: "TestBad/sub", Time: "0.000", Skipped: &skipped{Message: "a_test.go:9: later"}},
					{Classname: "m/a", Name: "TestHung", Time: "0.000", Failure: &failure{Message: "Test did not finish", Text: "panic: test timed out\n"}},
				},
			},
			{
				Name: "m/b", Tests: 1, Failures: 1, Time: "0.000",
				Cases: []caseXML{{Classname: "m/b", Name: buildFailedCase, Time: "0.000", Failure: &failure{Message: "Build failed", Text: "b_test.go:1:1: syntax error\n"}}},
			},
			{
				Name: "m/c", Tests: 1, Failures: 1, Time: "0.000",
				Cases: []caseXML{{Classname: "m/c", Name: packageFailedCase, Time: "0.000", Failure: &failure{Message: "Package failed", Text: "exit status 3\n"}}},
			},
			{Name: "m/d", Time: "0.000"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// Output stays readable: newlines are not escaped.
	if !strings.Contains(buf.String(), "\nwant 2\n") {
		t.Errorf("newlines in output were escaped:\n%s", buf.String())
	}
}

func TestWriteJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if got := parseJUnit(t, buf.Bytes()); got.Tests != 0 || len(got.Suites) != 0 {
		t.Errorf("empty report = %+v", got)
	}
}

// FuzzWriteJUnit checks that any test name and output give a well-formed
// report from which the (cleaned) name and output read back unchanged.
func FuzzWriteJUnit(f *testing.F) {
	f.Add("m/a", "TestA", "plain output\n")
	f.Add("m/a", "TestA/sub#01", "\x00\x01\x1b[31mred\x1b[0m <&> ]]> \r\n\xff\xfe")
	f.Fuzz(func(t *testing.T, pkg, name, output string) {
		suites := []Suite{{Package: pkg, Status: Fail, Cases: []Case{{Name: name, Status: Fail, Output: output}}}}
		var buf bytes.Buffer
		if err := WriteJUnit(&buf, suites); err != nil {
			t.Fatal(err)
		}
		doc := parseJUnit(t, buf.Bytes())
		if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1 || doc.Failures != 1 {
			t.Fatalf("report = %+v, want one failing case", doc)
		}
		c := doc.Suites[0].Cases[0]
		if c.Failure == nil {
			t.Fatal("no <failure>")
		}
		if want := clean(cleanOutput(output)); c.Failure.Text != want {
			t.Errorf("output read back as %q, want %q", c.Failure.Text, want)
		}
		if want := clean(name); c.Name != want {
			t.Errorf("name read back as %q, want %q", c.Name, want)
		}
		if want := clean(pkg); c.Classname != want || doc.Suites[0].Name != want {
			t.Errorf("package read back as %q / %q, want %q", c.Classname, doc.Suites[0].Name, want)
		}
	})
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"ok\ttab\nnl\rcr": "ok\ttab\nnl\rcr",
		"nul\x00":         "nul\uFFFD",
		"bad\xffutf8":     "bad\uFFFDutf8",
		"esc\x1b[0m":      "esc\uFFFD[0m",
		"\uFFFE":          "\uFFFD",
		"emoji 😀":         "emoji 😀",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// testcase finds a test case in a parsed report.
func testcase(t *testing.T, doc reportXML, pkg, name string) caseXML {
	t.Helper()
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Classname == pkg && c.Name == name {
				return c
			}
		}
	}
	t.Fatalf("no testcase %s %s in JUnit report", pkg, name)
	return caseXML{}
}
