package test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorMessages(t *testing.T) {
	many := make([]Failure, 12)
	for i := range many {
		many[i] = Failure{Package: "m", Test: fmt.Sprintf("T%d", i)}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&FailedError{Failures: []Failure{{Package: "m/a", Test: "TestA"}}}, "1 test failed: m/a.TestA"},
		{&FailedError{Failures: []Failure{{Package: "m/a", Test: "TestA"}, {Package: "m/b", Test: "TestB/sub"}}}, "2 tests failed: m/a.TestA, m/b.TestB/sub"},
		{&FailedError{Failures: []Failure{{Package: "m/a", Test: "TestA"}, {Package: "m/b"}}}, "1 test and 1 package failed: m/a.TestA, m/b"},
		{&FailedError{Failures: many}, "12 tests failed: m.T0, m.T1, m.T2, m.T3, m.T4, m.T5, m.T6, m.T7, m.T8, m.T9 and 2 more"},
		{&FailedError{}, "tests failed"},
		{&VetError{Diagnostics: []string{"a.go:1:2: x"}}, "go vet reported 1 problem: a.go:1:2: x"},
		{&VetError{Diagnostics: []string{"1", "2", "3", "4", "5"}}, "go vet reported 5 problems: 1; 2; 3 and 2 more"},
		{&CoverageError{Got: 61.26, Want: 80}, "coverage 61.3% is below the 80.0% threshold"},
		{&CoverageError{Got: 0, Want: 42.42}, "coverage 0.0% is below the 42.4% threshold"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorsAsThroughJoin(t *testing.T) {
	err := errors.Join(&FailedError{}, &VetError{}, &CoverageError{Got: 1, Want: 2})
	var (
		fe *FailedError
		ve *VetError
		ce *CoverageError
	)
	if !errors.As(err, &fe) || !errors.As(err, &ve) || !errors.As(err, &ce) {
		t.Errorf("errors.As does not find every error in %v", err)
	}
	if ce.Got != 1 || ce.Want != 2 {
		t.Errorf("CoverageError = %+v", ce)
	}
}

func TestParseVet(t *testing.T) {
	out := "# m/a\n# [m/a]\nvet: a/a_test.go:3:43: cannot use 1\nb/b.go:3:28: fmt.Printf format %d has arg \"x\" of wrong type string\n\tcontinued\n\n# m/c\nc/c.go:1:1: self-assignment of x to x\n"
	want := []string{
		"a/a_test.go:3:43: cannot use 1",
		"b/b.go:3:28: fmt.Printf format %d has arg \"x\" of wrong type string\n\tcontinued",
		"c/c.go:1:1: self-assignment of x to x",
	}
	if diff := cmp.Diff(want, parseVet(out)); diff != "" {
		t.Errorf("parseVet (-want +got):\n%s", diff)
	}
	if got := parseVet("# m/a\n\n"); len(got) != 0 {
		t.Errorf("parseVet of headers only = %q", got)
	}
}
