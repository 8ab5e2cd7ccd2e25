package test

import (
	"fmt"
	"strings"
)

// FailedError reports tests (or packages) that failed. Run returns it,
// possibly joined with the other errors here, alongside a Result.
type FailedError struct {
	Failures []Failure
}

// maxNamed bounds how many failures an error message names; the Result
// has them all.
const maxNamed = 10

func (e *FailedError) Error() string {
	tests, pkgs := 0, 0
	names := make([]string, 0, min(len(e.Failures), maxNamed))
	for _, f := range e.Failures {
		if f.Test == "" {
			pkgs++
		} else {
			tests++
		}
		if len(names) < maxNamed {
			names = append(names, f.Name())
		}
	}
	var what []string
	if tests > 0 {
		what = append(what, plural(tests, "test"))
	}
	if pkgs > 0 {
		what = append(what, plural(pkgs, "package"))
	}
	if len(what) == 0 {
		return "tests failed"
	}
	list := strings.Join(names, ", ")
	if n := len(e.Failures) - len(names); n > 0 {
		list += fmt.Sprintf(" and %d more", n)
	}
	return fmt.Sprintf("%s failed: %s", strings.Join(what, " and "), list)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// VetError reports go vet diagnostics.
type VetError struct {
	Diagnostics []string // file:line:col: message
}

func (e *VetError) Error() string {
	const shown = 3
	d := e.Diagnostics
	if len(d) > shown {
		d = d[:shown]
	}
	msg := fmt.Sprintf("go vet reported %s: %s", plural(len(e.Diagnostics), "problem"), strings.Join(d, "; "))
	if n := len(e.Diagnostics) - len(d); n > 0 {
		msg += fmt.Sprintf(" and %d more", n)
	}
	return msg
}

// CoverageError reports statement coverage below the required minimum.
type CoverageError struct {
	Got, Want float64 // percent
}

func (e *CoverageError) Error() string {
	return fmt.Sprintf("coverage %.1f%% is below the %.1f%% threshold", e.Got, e.Want)
}
