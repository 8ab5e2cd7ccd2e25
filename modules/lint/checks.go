package lint

import (
	"fmt"
	"strings"
	"unicode"
)

// selectChecks applies a check list in staticcheck's syntax to the known
// rule IDs: "all" or "*", an ID, a category glob ("SA*", "S*" matches S1000
// but not SA1000), an ID prefix glob ("SA4*"), each negated by a leading
// "-"; later entries win. defaults holds the IDs on when checks is empty.
// An entry that matches no rule is an error: a typo must not silently
// turn a check off.
func selectChecks(known []string, defaults map[string]bool, checks []string) (map[string]bool, error) {
	on := map[string]bool{}
	if len(checks) == 0 {
		for _, id := range known {
			on[id] = defaults[id]
		}
		return on, nil
	}
	for _, c := range checks {
		c = strings.TrimSpace(c)
		val := true
		if len(c) > 1 && c[0] == '-' {
			val, c = false, c[1:]
		}
		matched := false
		for _, id := range known {
			if matchCheck(c, id) {
				on[id] = val
				matched = true
			}
		}
		if !matched {
			return nil, &FieldError{Field: "checks", Msg: fmt.Sprintf("%q matches no rule", c)}
		}
	}
	return on, nil
}

func matchCheck(pattern, id string) bool {
	switch {
	case pattern == "all" || pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		p := strings.TrimSuffix(pattern, "*")
		if strings.IndexFunc(p, unicode.IsDigit) == -1 {
			// A category: the letters before the number, exactly.
			i := strings.IndexFunc(id, unicode.IsDigit)
			return i >= 0 && strings.EqualFold(id[:i], p)
		}
		return len(id) >= len(p) && strings.EqualFold(id[:len(p)], p)
	default:
		return strings.EqualFold(pattern, id)
	}
}
