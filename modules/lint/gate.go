package lint

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pavedhq/paved/modules/scan/expiry"
)

// Tool configures one tool and its gate. The zero value runs the tool with
// its default checks and fails on every finding.
type Tool struct {
	// Disabled skips the tool; the report says it was disabled, and its
	// gate passes. It is the only way a tool does not run without failing.
	Disabled bool
	// Checks selects rules, in staticcheck's syntax: "all", a rule
	// ("SA4006", "G404"), a prefix glob ("SA*", "G4*"), each negated with a
	// leading "-"; later entries win. Empty means the tool's defaults.
	Checks []string
	// Severity is the least severe finding that fails the gate (HIGH,
	// MEDIUM or LOW); empty means LOW, every finding.
	Severity string
	// Warn reports findings without failing the gate. A tool that cannot
	// run still fails it.
	Warn bool
	// Ignore accepts findings, each until its expiry.
	Ignore []Exception
}

// Exception accepts the findings of one rule, in one file or a glob of
// files when Path is set, for a stated reason until it expires.
type Exception struct {
	Rule string // SA4006, G404
	// Path is a file relative to the module, slash-separated, or a glob of
	// them (path.Match); empty matches every file.
	Path   string
	Reason string
	// Expires is the last day the exception is honoured: through the end
	// of that day, UTC (package expiry). It is required.
	Expires time.Time
}

func (e Exception) String() string {
	s := e.Rule
	if e.Path != "" {
		s += " in " + e.Path
	}
	return s
}

// Validate says what is wrong with an exception, naming the field.
func (e Exception) Validate() error {
	switch {
	case strings.TrimSpace(e.Rule) == "":
		return &FieldError{Field: "rule", Msg: "an exception names the rule it accepts, such as G404 or SA4006"}
	case strings.TrimSpace(e.Reason) == "":
		return &FieldError{Field: "reason", Msg: fmt.Sprintf("the exception for %s gives no reason", e)}
	case e.Expires.IsZero():
		return &FieldError{Field: "expires", Msg: fmt.Sprintf("the exception for %s has no expiry, so it would last forever", e)}
	}
	if e.Path != "" {
		if _, err := path.Match(e.Path, ""); err != nil || path.IsAbs(e.Path) || strings.HasPrefix(path.Clean(e.Path), "../") || strings.Contains(e.Path, "\\") {
			return &FieldError{Field: "path", Msg: fmt.Sprintf("%q is not a file or glob relative to the module, slash-separated", e.Path)}
		}
	}
	return nil
}

// FieldError is a bad setting, named as paved.yaml spells it.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func (e Exception) matches(f Finding) bool {
	if !strings.EqualFold(e.Rule, f.Rule) {
		return false
	}
	if e.Path == "" {
		return true
	}
	ok, _ := path.Match(path.Clean(e.Path), f.File)
	return ok
}

// applyExceptions marks the findings an honoured exception accepts and
// those whose exception has lapsed, and warns about lapsed exceptions and
// those that match nothing, so stale ones get removed.
func applyExceptions(fs []Finding, exs []Exception, now time.Time) []string {
	var warns []string
	for _, e := range exs {
		honoured := expiry.Honoured(e.Expires, now)
		matched := 0
		for i := range fs {
			if fs[i].Ignored != "" || !e.matches(fs[i]) {
				continue
			}
			matched++
			if honoured {
				fs[i].Ignored, fs[i].Expired = strings.TrimSpace(e.Reason), ""
			} else {
				fs[i].Expired = expiry.Day(e.Expires)
			}
		}
		switch {
		case !honoured:
			warns = append(warns, fmt.Sprintf("exception %s expired after %s, not honoured (%d findings)", e, expiry.Day(e.Expires), matched))
		case matched == 0:
			warns = append(warns, fmt.Sprintf("exception %s matches no finding", e))
		}
	}
	return warns
}

// ruleOf describes a tool's gate in words.
func ruleOf(t Tool) string {
	if t.Warn {
		return "warn on findings"
	}
	sev := strings.ToUpper(t.Severity)
	if sev == "" || sev == "LOW" {
		return "fail on any finding"
	}
	if sev == "HIGH" {
		return "fail on HIGH"
	}
	return "fail on " + sev + " or above"
}

// blocks reports whether a finding fails the gate of t.
func blocks(t Tool, f Finding) bool {
	if t.Warn || f.Ignored != "" {
		return false
	}
	sev := strings.ToUpper(t.Severity)
	if sev == "" {
		sev = "LOW"
	}
	return rank(f.Severity) <= rank(sev)
}

// GateError is returned by Run, with the report, when a gate fails.
type GateError struct {
	Failed []string // "gosec: 2 findings fail \"fail on any finding\""…
	Shown  []Finding
	More   int
}

func (e *GateError) Error() string {
	var b strings.Builder
	b.WriteString(strings.Join(e.Failed, "; "))
	for _, f := range e.Shown {
		b.WriteString("\n  " + f.String())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  and %d more (see the SARIF file)", e.More)
	}
	return b.String()
}
