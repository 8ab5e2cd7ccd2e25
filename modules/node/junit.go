package node

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pavedhq/paved/modules/test"
)

// Tests is what a JUnit report says about a run.
type Tests struct {
	Passed, Failed, Skipped int
	Failures                []test.Failure
}

type junitCase struct {
	Classname string    `xml:"classname,attr"`
	Name      string    `xml:"name,attr"`
	File      string    `xml:"file,attr"`
	Failure   []fault   `xml:"failure"`
	Error     []fault   `xml:"error"`
	Skipped   *struct{} `xml:"skipped"`
}

type fault struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSuite struct {
	Name   string       `xml:"name,attr"`
	File   string       `xml:"file,attr"`
	Cases  []junitCase  `xml:"testcase"`
	Suites []junitSuite `xml:"testsuite"`
}

// maxOutput bounds the failure text kept per test.
const maxOutput = 4 << 10

// ParseJUnit reads a JUnit XML report (<testsuites> or a single
// <testsuite>, as Vitest, Jest's jest-junit and node --test write).
func ParseJUnit(b []byte) (Tests, error) {
	var root struct {
		XMLName xml.Name
		junitSuite
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&root); err != nil {
		return Tests{}, fmt.Errorf("JUnit report: %w", err)
	}
	switch root.XMLName.Local {
	case "testsuites", "testsuite":
	default:
		return Tests{}, fmt.Errorf("JUnit report: root element <%s>, want <testsuites> or <testsuite>", root.XMLName.Local)
	}
	var t Tests
	var walk func(s junitSuite, depth int) error
	walk = func(s junitSuite, depth int) error {
		if depth > 64 {
			return fmt.Errorf("JUnit report: test suites nested more than 64 deep")
		}
		for _, c := range s.Cases {
			faults := append(c.Failure, c.Error...)
			switch {
			case len(faults) > 0:
				t.Failed++
				t.Failures = append(t.Failures, failureOf(s, c, faults))
			case c.Skipped != nil:
				t.Skipped++
			default:
				t.Passed++
			}
		}
		for _, child := range s.Suites {
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root.junitSuite, 0); err != nil {
		return Tests{}, err
	}
	return t, nil
}

func failureOf(s junitSuite, c junitCase, faults []fault) test.Failure {
	file := firstNonEmpty(c.File, s.File, c.Classname, s.Name)
	f := test.Failure{Package: firstNonEmpty(c.Classname, s.Name), Test: c.Name}
	var out []string
	for _, x := range faults {
		out = append(out, strings.TrimSpace(strings.Join(nonEmpty(x.Message, x.Text), "\n")))
	}
	f.Output = strings.Join(out, "\n")
	if len(f.Output) > maxOutput {
		f.Output = "…" + f.Output[len(f.Output)-maxOutput:]
	}
	if file != "" && looksLikeFile(file) {
		f.File = file
		if m := lineIn(file).FindStringSubmatch(f.Output); m != nil {
			f.Line, _ = strconv.Atoi(m[1])
		}
	}
	return f
}

func looksLikeFile(s string) bool {
	for _, ext := range []string{".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".vue", ".svelte"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// lineIn finds "file:LINE" (after a path separator or the start) in a
// stack trace.
func lineIn(file string) *regexp.Regexp {
	return regexp.MustCompile(`(?:^|[\s(/])` + regexp.QuoteMeta(file) + `:(\d+)`)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	return out
}
