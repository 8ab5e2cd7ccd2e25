package python

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Requirement is one pinned line of a lock.
type Requirement struct {
	Name    string   // normalized (PEP 503): lower case, runs of -_. as one -
	Version string   // the exact version after == (or ===)
	Hashes  []string // --hash values, such as sha256:…
	Markers string   // the environment marker after ;, if any
	Line    int      // 1-based line where the requirement starts
}

// RequirementError is a line of a lock that paved refuses: unpinned, or
// something pip would fetch from elsewhere than the index.
type RequirementError struct {
	File string // as the caller named it; "" when unknown
	Line int
	Text string // the line as written (continuations joined)
	Msg  string
}

func (e *RequirementError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("%s: %q: %s", where, e.Text, e.Msg)
}

// maxRequirementsSize bounds a lock: thousands of hashed lines are a few
// hundred kilobytes.
const maxRequirementsSize = 8 << 20

// What a lock may hold as a name (PEP 508: letters and digits, with . _ -
// inside) and as a pinned version; uv.lock and poetry.lock are held to the
// same.
const (
	namePattern    = `[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`
	versionPattern = `[A-Za-z0-9][A-Za-z0-9.+!_-]*`
)

var (
	reqName = regexp.MustCompile(`^(` + namePattern + `)\s*(\[[^\]]*\])?\s*(.*)$`)
	// One exact version: == or ===, no wildcard.
	exactPin = regexp.MustCompile(`^(===?)\s*(` + versionPattern + `)$`)
	// Options pip accepts in a requirements file that change only where
	// packages come from, taking a value.
	sourceOptions = map[string]bool{"-i": true, "--index-url": true, "--extra-index-url": true, "-f": true, "--find-links": true, "--trusted-host": true}
	// Options without a value that change no package.
	flagOptions = map[string]bool{"--no-index": true, "--require-hashes": true, "--prefer-binary": true, "--pre": true}
	hashValue   = regexp.MustCompile(`^(sha256|sha384|sha512):[0-9a-fA-F]+$`)
	nameRuns    = regexp.MustCompile(`[-_.]+`)
)

// NormalizeName is a distribution name as PEP 503 compares them.
func NormalizeName(s string) string { return strings.ToLower(nameRuns.ReplaceAllString(s, "-")) }

// ParseRequirements reads a requirements file that is a lock: every
// requirement pinned to one version (name==1.2.3, markers and --hash
// allowed). An unpinned or ranged requirement, a URL or path requirement,
// an editable install, an include (-r, -c) or an option paved does not know
// is a *RequirementError naming the line. Index options (-i,
// --extra-index-url, -f, --trusted-host, --no-index) are left to pip.
func ParseRequirements(file string, r io.Reader) ([]Requirement, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRequirementsSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRequirementsSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", file, maxRequirementsSize)
	}
	var reqs []Requirement
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), maxRequirementsSize+1)
	n, start := 0, 0
	var logical strings.Builder
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if logical.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			logical.WriteString(strings.TrimSuffix(line, `\`))
			logical.WriteByte(' ')
			continue
		}
		logical.WriteString(line)
		text := logical.String()
		logical.Reset()
		req, ok, err := parseLine(text)
		if err != nil {
			return nil, &RequirementError{File: file, Line: start, Text: strings.TrimSpace(text), Msg: err.Error()}
		}
		if !ok {
			continue
		}
		if first, dup := seen[req.Name+";"+req.Markers]; dup {
			return nil, &RequirementError{File: file, Line: start, Text: strings.TrimSpace(text), Msg: fmt.Sprintf("%s is pinned twice (first on line %d)", req.Name, first)}
		}
		seen[req.Name+";"+req.Markers] = start
		req.Line = start
		reqs = append(reqs, req)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if logical.Len() > 0 {
		return nil, &RequirementError{File: file, Line: start, Text: strings.TrimSpace(logical.String()), Msg: `ends with a line continuation (\) and nothing after it`}
	}
	return reqs, nil
}

// stripComment cuts a comment: # at the start or after white space, as pip
// reads them (a # inside a URL fragment is not one).
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// parseLine reads one logical line; ok is false for blank lines, comments
// and options.
func parseLine(text string) (Requirement, bool, error) {
	s := strings.TrimSpace(stripComment(text))
	if s == "" {
		return Requirement{}, false, nil
	}
	if strings.HasPrefix(s, "-") {
		return Requirement{}, false, checkOption(s)
	}
	// Per-requirement options follow the requirement: --hash=…
	var hashes []string
	fields := strings.Fields(s)
	spec := []string{}
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "--") {
			spec = append(spec, f)
			continue
		}
		opt, val, hasVal := strings.Cut(f, "=")
		if opt != "--hash" {
			return Requirement{}, false, fmt.Errorf("option %s is not allowed on a requirement line (only --hash)", opt)
		}
		if !hasVal {
			if i+1 >= len(fields) {
				return Requirement{}, false, fmt.Errorf("--hash needs a value such as sha256:<hex>")
			}
			i++
			val = fields[i]
		}
		if !hashValue.MatchString(val) {
			return Requirement{}, false, fmt.Errorf("--hash %q is not sha256:<hex> (or sha384, sha512)", val)
		}
		hashes = append(hashes, val)
	}
	req, err := parseSpec(strings.Join(spec, " "))
	if err != nil {
		return Requirement{}, false, err
	}
	req.Hashes = hashes
	return req, true, nil
}

func checkOption(s string) error {
	f := strings.Fields(s)
	opt, _, hasVal := strings.Cut(f[0], "=")
	switch {
	case opt == "-r" || opt == "--requirement" || opt == "-c" || opt == "--constraint":
		return fmt.Errorf("includes are not followed: list every pinned requirement in this one file")
	case opt == "-e" || opt == "--editable":
		return fmt.Errorf("an editable requirement is not pinned: pin a released version (name==1.2.3)")
	case sourceOptions[opt]:
		if !hasVal && len(f) < 2 {
			return fmt.Errorf("%s needs a value", opt)
		}
		return nil
	case flagOptions[opt]:
		return nil
	case strings.HasPrefix(opt, "-i") || strings.HasPrefix(opt, "-f"):
		return nil // -ihttps://… written without a space
	}
	return fmt.Errorf("option %s is not supported in a lock", opt)
}

// parseSpec reads "name[extras] ==1.2 ; markers".
func parseSpec(s string) (Requirement, error) {
	spec, markers, _ := strings.Cut(s, ";")
	spec = strings.TrimSpace(spec)
	m := reqName.FindStringSubmatch(spec)
	if m != nil && strings.HasPrefix(strings.TrimSpace(m[3]), "@") {
		return Requirement{}, fmt.Errorf("a direct reference (name @ URL) is not a pinned version: pin a released version (name==1.2.3) from the index")
	}
	if strings.Contains(spec, "://") || strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
		return Requirement{}, fmt.Errorf("a URL or path is not a pinned version: pin a released version (name==1.2.3) from the index")
	}
	if m == nil {
		return Requirement{}, fmt.Errorf("not a requirement (want name==version)")
	}
	rest := strings.TrimSpace(m[3])
	if rest == "" {
		return Requirement{}, fmt.Errorf("%s is not pinned: pin one version (%s==1.2.3), as pip-compile or uv export write them", m[1], m[1])
	}
	rest = strings.Trim(rest, "() ")
	pin := exactPin.FindStringSubmatch(strings.TrimSpace(rest))
	if pin == nil || strings.ContainsAny(rest, ",*") {
		return Requirement{}, fmt.Errorf("%s %s is not pinned to one version: use == with an exact version (%s==1.2.3)", m[1], rest, m[1])
	}
	return Requirement{Name: NormalizeName(m[1]), Version: pin[2], Markers: strings.TrimSpace(markers)}, nil
}
