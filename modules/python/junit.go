package python

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/pavedhq/paved/modules/test"
)

// Cases counts what pytest's JUnit report says ran.
type Cases struct {
	Passed, Failed, Skipped int
	// Failures are the failed and errored cases, in report order: Package is
	// the test's module (tests.test_job) or class, Test its name.
	Failures []test.Failure
}

type pytestSuites struct {
	Suites []pytestSuite `xml:"testsuite"`
}

type pytestSuite struct {
	Cases  []pytestCase  `xml:"testcase"`
	Suites []pytestSuite `xml:"testsuite"`
}

type pytestCase struct {
	Classname string          `xml:"classname,attr"`
	Name      string          `xml:"name,attr"`
	File      string          `xml:"file,attr"`
	Line      string          `xml:"line,attr"`
	Failures  []pytestProblem `xml:"failure"`
	Errors    []pytestProblem `xml:"error"`
	Skipped   []pytestProblem `xml:"skipped"`
	SystemOut string          `xml:"system-out"`
}

type pytestProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// maxFailureOutput bounds the output kept per failure, as modules/test does.
const maxFailureOutput = 16 << 10

// ParseJUnit reads a JUnit XML report as pytest writes it (--junitxml;
// <testsuites> or a single <testsuite>). A case with a <failure> or
// <error> failed (an error is a collection or fixture failure), one with
// <skipped> was skipped, any other passed.
func ParseJUnit(r io.Reader) (Cases, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxReportSize))
	if err != nil {
		return Cases{}, err
	}
	var root struct {
		XMLName xml.Name
		pytestSuite
	}
	if err := xml.Unmarshal(b, &root); err != nil {
		return Cases{}, fmt.Errorf("junit: %w", err)
	}
	var suites []pytestSuite
	switch root.XMLName.Local {
	case "testsuites":
		suites = root.Suites
	case "testsuite":
		suites = []pytestSuite{root.pytestSuite}
	default:
		return Cases{}, fmt.Errorf("junit: root element is <%s>, want <testsuites> or <testsuite>", root.XMLName.Local)
	}
	var c Cases
	var walk func([]pytestSuite, int) error
	walk = func(ss []pytestSuite, depth int) error {
		if depth > 16 {
			return fmt.Errorf("junit: test suites nested more than 16 deep")
		}
		for _, s := range ss {
			for _, tc := range s.Cases {
				c.add(tc)
			}
			if err := walk(s.Suites, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(suites, 0); err != nil {
		return Cases{}, err
	}
	return c, nil
}

func (c *Cases) add(tc pytestCase) {
	problems := append(append([]pytestProblem{}, tc.Failures...), tc.Errors...)
	switch {
	case len(problems) > 0:
		c.Failed++
		var out []string
		for _, p := range problems {
			text := strings.TrimSpace(p.Text)
			if text == "" {
				text = p.Message
			}
			out = append(out, text)
		}
		f := test.Failure{Package: tc.Classname, Test: tc.Name, Output: tail(strings.Join(out, "\n"), maxFailureOutput)}
		if f.Package == "" {
			// A module that failed to import: pytest names it as the case.
			f.Package, f.Test = tc.Name, ""
		}
		f.File, f.Line = location(f.Output, tc.File, tc.Line)
		c.Failures = append(c.Failures, f)
	case len(tc.Skipped) > 0:
		c.Skipped++
	default:
		c.Passed++
	}
}

// traceLine is the last line of a pytest traceback entry: "path.py:12: Error".
var traceLine = regexp.MustCompile(`(?m)^([^\s:][^:\n]*\.py):(\d+): `)

// location is where the failure was raised: the last "file.py:N:" line of
// pytest's traceback that is not in an installed package, else the file and
// line of the test case (pytest's line is 0-based).
func location(out, file, line string) (string, int) {
	var f string
	var n int
	for _, m := range traceLine.FindAllStringSubmatch(out, -1) {
		if strings.Contains(m[1], "site-packages/") || strings.Contains(m[1], "dist-packages/") || strings.HasPrefix(m[1], "/") {
			continue
		}
		if v, err := strconv.Atoi(m[2]); err == nil && v > 0 {
			f, n = m[1], v
		}
	}
	if f != "" {
		return f, n
	}
	if file != "" && !strings.HasPrefix(file, "/") {
		if v, err := strconv.Atoi(line); err == nil && v >= 0 {
			return file, v + 1
		}
		return file, 0
	}
	return "", 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func junitOf(path string) (Cases, error) {
	f, err := os.Open(path)
	if err != nil {
		return Cases{}, err
	}
	defer f.Close()
	c, err := ParseJUnit(f)
	if err != nil {
		return Cases{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
