package scan

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pavedhq/paved/modules/scan/expiry"
)

// ParseIgnore reads an ignore entry written on one line, as in a policy file
// or a flag:
//
//	CVE-2024-1234 until 2027-01-01: waiting for the upstream release
//	GO-2024-0001: not reachable from our handlers
//
// The entry is honoured through the end of the named day, UTC, as an
// exception's expiry is everywhere in paved (package expiry). An entry
// without a reason parses, but the gate does not honour it.
func ParseIgnore(s string) (Ignore, error) {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' {
			return Ignore{}, fmt.Errorf("ignore %q: control character %U", s, r)
		}
	}
	head, reason, _ := strings.Cut(s, ":")
	fields := strings.Fields(head)
	var ig Ignore
	switch {
	case len(fields) == 1:
	case len(fields) == 3 && fields[1] == "until":
		t, err := expiry.Parse(fields[2])
		if err != nil {
			return Ignore{}, fmt.Errorf("ignore %q: expiry: %w", s, err)
		}
		ig.Expires = t
	default:
		return Ignore{}, fmt.Errorf("ignore %q: want \"ID [until YYYY-MM-DD]: reason\"", s)
	}
	if !validID(fields[0]) {
		return Ignore{}, fmt.Errorf("ignore %q: %q is not a vulnerability ID", s, fields[0])
	}
	ig.ID = fields[0]
	ig.Reason = strings.TrimSpace(reason)
	return ig, nil
}

// String writes the entry in the form ParseIgnore reads.
func (ig Ignore) String() string {
	var b strings.Builder
	b.WriteString(ig.ID)
	if !ig.Expires.IsZero() {
		b.WriteString(" until ")
		b.WriteString(expiry.Day(ig.Expires))
	}
	if ig.Reason != "" {
		b.WriteString(": ")
		b.WriteString(ig.Reason)
	}
	return b.String()
}

// validID accepts the characters of CVE, GHSA, GO, OSV and distribution IDs.
func validID(id string) bool {
	if id == "" {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_.", r):
		default:
			return false
		}
	}
	return true
}

// activeIgnores returns the entries honoured at now, and a warning for
// each one that is not.
func activeIgnores(igs []Ignore, now time.Time) ([]Ignore, []string) {
	var active []Ignore
	var warns []string
	for _, ig := range igs {
		switch {
		case !validID(ig.ID):
			warns = append(warns, fmt.Sprintf("ignore %q: not a vulnerability ID, not honoured", ig.ID))
		case strings.TrimSpace(ig.Reason) == "":
			warns = append(warns, fmt.Sprintf("ignore %s: no reason given, not honoured", ig.ID))
		case !expiry.Honoured(ig.Expires, now):
			warns = append(warns, fmt.Sprintf("ignore %s: expired after %s, not honoured", ig.ID, expiry.Day(ig.Expires)))
		default:
			active = append(active, ig)
		}
	}
	return active, warns
}

// applyIgnores marks the findings an active entry matches (by ID or alias)
// and warns about entries that match nothing, so stale ones get removed.
func applyIgnores(fs []Finding, active []Ignore) []string {
	used := make([]bool, len(active))
	for i := range fs {
		for j, ig := range active {
			if matches(fs[i], ig.ID) {
				fs[i].Ignored = strings.TrimSpace(ig.Reason)
				used[j] = true
				break
			}
		}
	}
	var warns []string
	for j, ig := range active {
		if !used[j] {
			warns = append(warns, fmt.Sprintf("ignore %s: matches no finding", ig.ID))
		}
	}
	return warns
}

func matches(f Finding, id string) bool {
	for _, x := range f.ids() {
		if strings.EqualFold(x, id) {
			return true
		}
	}
	return false
}
