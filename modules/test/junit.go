package test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// The JUnit XML dialect below is the common subset that Jenkins, GitLab and
// the GitHub test-reporter actions all read.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	// Text is escaped by escapeText, not by encoding/xml, which would turn
	// every newline of the output into "&#xA;".
	Text string `xml:",innerxml"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// Names given to the test case standing for a package-level failure, so a
// package that did not build is as visible in CI as a failing test.
const (
	buildFailedCase   = "[build failed]"
	packageFailedCase = "[package failed]"
)

// WriteJUnit writes suites as a JUnit XML document: one <testsuite> per
// package and one <testcase> per test or subtest, in the order given.
// A package that failed with no failing test to show for it (it did not
// compile, TestMain exited) is reported as a failed test case named
// "[build failed]" or "[package failed]".
func WriteJUnit(w io.Writer, suites []Suite) error {
	doc := junitSuites{Suites: make([]junitSuite, 0, len(suites))}
	var total time.Duration
	for _, s := range suites {
		js := junitSuite{
			Name: clean(s.Package),
			Time: secondsAttr(s.Elapsed),
		}
		if !s.Start.IsZero() {
			js.Timestamp = s.Start.UTC().Format("2006-01-02T15:04:05")
		}
		failedCases := 0
		for _, tc := range s.Cases {
			jc := junitCase{Classname: js.Name, Name: clean(tc.Name), Time: secondsAttr(tc.Elapsed)}
			switch {
			case failedCase(tc):
				failedCases++
				msg := "Failed"
				if tc.Status == "" {
					msg = "Test did not finish"
				}
				jc.Failure = &junitFailure{Message: clean(msg), Text: escapeText(cleanOutput(tc.Output))}
			case tc.Status == Skip:
				jc.Skipped = &junitSkipped{Message: clean(firstLine(tc.Output))}
			}
			js.Cases = append(js.Cases, jc)
		}
		if (s.Status == Fail || s.BuildFailed) && failedCases == 0 {
			name, msg := packageFailedCase, "Package failed"
			if s.BuildFailed {
				name, msg = buildFailedCase, "Build failed"
			}
			js.Cases = append(js.Cases, junitCase{
				Classname: js.Name,
				Name:      name,
				Time:      secondsAttr(0),
				Failure:   &junitFailure{Message: msg, Text: escapeText(cleanOutput(s.Output))},
			})
		}
		for _, jc := range js.Cases {
			js.Tests++
			if jc.Failure != nil {
				js.Failures++
			}
			if jc.Skipped != nil {
				js.Skipped++
			}
		}
		doc.Tests += js.Tests
		doc.Failures += js.Failures
		doc.Skipped += js.Skipped
		total += s.Elapsed
		doc.Suites = append(doc.Suites, js)
	}
	doc.Time = secondsAttr(total)

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	return nil
}

func secondsAttr(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// clean makes s representable in XML 1.0: test output is arbitrary bytes,
// and a single NUL or invalid UTF-8 sequence would make the whole report
// unreadable to CI. Such characters become U+FFFD.
func clean(s string) string {
	valid := utf8.ValidString(s)
	if valid && strings.IndexFunc(s, func(r rune) bool { return !xmlChar(r) }) < 0 {
		return s
	}
	if !valid {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Map(func(r rune) rune {
		if xmlChar(r) {
			return r
		}
		return '\uFFFD'
	}, s)
}

// escapeText makes s safe as XML character data, keeping newlines and tabs
// as they are so the report stays readable.
func escapeText(s string) string {
	s = clean(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\r':
			b.WriteString("&#xD;") // a literal CR would be read back as LF
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlChar reports whether r is allowed by the XML 1.0 Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
