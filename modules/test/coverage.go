package test

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// ParseCoverProfile totals a coverage profile (the file written by
// go test -coverprofile) the way go tool cover -func does: statements in
// blocks with a non-zero count over all statements. A block listed more
// than once (profiles merged across packages, or -coverpkg) is counted
// once, and is covered if any listing covered it. "mode:" lines are skipped
// wherever they appear, so concatenated profiles parse too.
func ParseCoverProfile(r io.Reader) (covered, total int64, err error) {
	type block struct {
		stmts   int64
		covered bool
	}
	blocks := map[string]*block{}
	n := 0
	rerr := readLines(r, func(line []byte) {
		n++
		if err != nil {
			return
		}
		if line == nil {
			err = fmt.Errorf("coverage profile line %d: longer than %d bytes", n, maxLine)
			return
		}
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "mode:") {
			return
		}
		key, stmts, hit, perr := parseBlock(s)
		if perr != nil {
			err = fmt.Errorf("coverage profile line %d: %w", n, perr)
			return
		}
		b, ok := blocks[key]
		if !ok {
			if total > math.MaxInt64-stmts {
				err = fmt.Errorf("coverage profile line %d: statement count overflows", n)
				return
			}
			total += stmts
			b = &block{stmts: stmts}
			blocks[key] = b
		} else if b.stmts != stmts {
			err = fmt.Errorf("coverage profile line %d: block %s listed with %d and %d statements", n, key, b.stmts, stmts)
			return
		}
		if hit && !b.covered {
			b.covered = true
			covered += stmts
		}
	})
	if rerr != nil {
		err = fmt.Errorf("reading coverage profile: %w", rerr)
	}
	if err != nil {
		return 0, 0, err
	}
	return covered, total, nil
}

// parseBlock parses "file:l0.c0,l1.c1 stmts count" into the block's key
// (file and position), its statement count and whether it was hit.
func parseBlock(s string) (key string, stmts int64, hit bool, err error) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", 0, false, fmt.Errorf("malformed block %q", s)
	}
	count := s[i+1:]
	s = s[:i]
	j := strings.LastIndexByte(s, ' ')
	if j < 0 {
		return "", 0, false, fmt.Errorf("malformed block %q", s)
	}
	num := s[j+1:]
	key = s[:j]
	if !digits(count) || !digits(num) {
		return "", 0, false, fmt.Errorf("malformed counts in block %q", key)
	}
	k := strings.LastIndexByte(key, ':')
	if k <= 0 || !position(key[k+1:]) {
		return "", 0, false, fmt.Errorf("malformed position in block %q", key)
	}
	for _, c := range num {
		stmts = stmts*10 + int64(c-'0')
		if stmts > math.MaxInt32 {
			return "", 0, false, fmt.Errorf("statement count %s in block %q is too large", num, key)
		}
	}
	return key, stmts, strings.Trim(count, "0") != "", nil
}

// position checks "l0.c0,l1.c1".
func position(s string) bool {
	from, to, ok := strings.Cut(s, ",")
	if !ok {
		return false
	}
	for _, p := range []string{from, to} {
		l, c, ok := strings.Cut(p, ".")
		if !ok || !digits(l) || !digits(c) {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// coverageOf reads the profile at path and returns the percentage of
// statements covered (0 when there are no statements).
func coverageOf(path string) (float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	covered, total, err := ParseCoverProfile(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if total == 0 {
		return 0, nil
	}
	return 100 * float64(covered) / float64(total), nil
}
