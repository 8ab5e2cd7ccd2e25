package scan

import (
	"fmt"
	"strings"
)

// GateResult is the gate's verdict on a report.
type GateResult struct {
	Passed     bool      `json:"passed"`
	Violations []Finding `json:"violations,omitempty"`
	Rule       string    `json:"rule"` // e.g. "fail on CRITICAL with a fix available"
}

// GateError is returned by Run, with the report, when the gate fails.
type GateError struct {
	Violations []Finding
	Rule       string
}

func (e *GateError) Error() string {
	var ids []string
	seen := map[string]bool{}
	for _, v := range e.Violations {
		if seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		s := fmt.Sprintf("%s %s in %s %s", v.ID, v.Severity, v.Package, v.Version)
		if v.FixedVersion != "" {
			s += " (fixed in " + v.FixedVersion + ")"
		}
		ids = append(ids, s)
	}
	const show = 5
	more := ""
	if len(ids) > show {
		more = fmt.Sprintf(" and %d more", len(ids)-show)
		ids = ids[:show]
	}
	return fmt.Sprintf("scan gate %q failed: %s%s", e.Rule, strings.Join(ids, "; "), more)
}

// rule describes the gate in words.
func rule(sevs []string, anyFix bool) string {
	r := "fail on " + strings.Join(sevs, ", ")
	if anyFix {
		return r + " with or without a fix"
	}
	return r + " with a fix available"
}

// evaluate applies the gate to findings already marked as ignored.
func evaluate(fs []Finding, sevs []string, anyFix bool) GateResult {
	fail := map[string]bool{}
	for _, s := range sevs {
		fail[s] = true
	}
	res := GateResult{Rule: rule(sevs, anyFix)}
	for _, f := range fs {
		if f.Ignored == "" && fail[f.Severity] && (anyFix || f.Fixable()) {
			res.Violations = append(res.Violations, f)
		}
	}
	res.Passed = len(res.Violations) == 0
	return res
}
