package python

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// PoetryLockFile is the name Poetry gives its lock; the project's
// dependencies are in the pyproject.toml beside it.
const PoetryLockFile = "poetry.lock"

// PoetryLockError is a poetry.lock (with its pyproject.toml) that paved
// will not install from; Package is "" when a file as a whole is at fault.
type PoetryLockError struct {
	Package string
	Msg     string
}

func (e *PoetryLockError) Error() string {
	if e.Package == "" {
		return PoetryLockFile + ": " + e.Msg
	}
	return fmt.Sprintf("%s: package %s: %s", PoetryLockFile, e.Package, e.Msg)
}

type poetryLock struct {
	Packages []poetryPackage `toml:"package"`
	Metadata struct {
		LockVersion *string                 `toml:"lock-version"`
		Files       map[string][]poetryFile `toml:"files"` // lock 1.1 keeps the files here, by package
	} `toml:"metadata"`
}

type poetryPackage struct {
	Name         string              `toml:"name"`
	Version      string              `toml:"version"`
	Groups       []string            `toml:"groups"`  // lock 2.1
	Markers      any                 `toml:"markers"` // lock 2.1: a marker, or one per group
	Files        []poetryFile        `toml:"files"`
	Dependencies map[string]any      `toml:"dependencies"`
	Extras       map[string][]string `toml:"extras"`
	Source       *struct {
		Type string `toml:"type"`
		URL  string `toml:"url"`
	} `toml:"source"`
}

type poetryFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

type pyprojectFile struct {
	Project struct {
		Dependencies *[]string `toml:"dependencies"`
	} `toml:"project"`
	Tool struct {
		Poetry struct {
			Dependencies map[string]any `toml:"dependencies"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

// poetryDep is one constraint of a dependency, as pyproject.toml's
// [tool.poetry.dependencies] and the lock's [package.dependencies] write
// them: "1.2", { version = "1.2", markers = "…", extras = […] }, or a list
// of such tables.
type poetryDep struct {
	Name     string
	Markers  []string // all must hold
	Extras   []string
	Optional bool
}

// pep508 is a requirement string as [project].dependencies and the lock's
// [package.extras] write them: name[extras] (constraint) ; marker.
var pep508 = regexp.MustCompile(`^\s*(` + namePattern + `)\s*(?:\[([^\]]*)\])?([^;]*)(?:;(.*))?$`)

// RequirementsFromPoetryLock turns a poetry.lock and the project's
// pyproject.toml into the requirements file that poetry export --format
// requirements.txt writes: the project's main dependencies
// ([project].dependencies, else [tool.poetry.dependencies]) and everything
// they need, each pinned with every hash of its files and with the markers
// under which it is needed. Dev groups and optional dependencies are left
// out; an extra is followed where a dependency asks for it. A package pip
// could not check by hash (no hashes; a git, directory, file or URL
// source), a dependency the lock does not list, a lock version other than
// 1.x or 2.x and a malformed file are a *PoetryLockError.
//
// A dependency under a marker that the lock does not list is left out:
// Poetry locks nothing for a marker the project's Python rules out.
func RequirementsFromPoetryLock(pyproject, lock []byte) ([]byte, error) {
	if len(lock) > maxRequirementsSize || len(pyproject) > maxRequirementsSize {
		return nil, &PoetryLockError{Msg: fmt.Sprintf("it or pyproject.toml is larger than %d bytes", maxRequirementsSize)}
	}
	var proj pyprojectFile
	if _, err := toml.Decode(string(pyproject), &proj); err != nil {
		return nil, &PoetryLockError{Msg: "pyproject.toml beside it is not one paved can read: " + err.Error()}
	}
	var lk poetryLock
	if _, err := toml.Decode(string(lock), &lk); err != nil {
		return nil, &PoetryLockError{Msg: "not a lock paved can read: " + err.Error()}
	}
	v := "none"
	if lk.Metadata.LockVersion != nil {
		v = *lk.Metadata.LockVersion
	}
	major, _, _ := strings.Cut(v, ".")
	if major != "1" && major != "2" {
		return nil, &PoetryLockError{Msg: fmt.Sprintf("lock version %s: paved reads versions 1.x and 2.x", v)}
	}

	byName := map[string][]int{}
	deps := make([][]poetryDep, len(lk.Packages))
	for i, p := range lk.Packages {
		if !pinnedName.MatchString(p.Name) {
			return nil, &PoetryLockError{Msg: fmt.Sprintf("package name %q is not a distribution name", p.Name)}
		}
		byName[NormalizeName(p.Name)] = append(byName[NormalizeName(p.Name)], i)
		if err := checkPoetryMarkers(p.Markers); err != nil {
			return nil, &PoetryLockError{Package: p.Name, Msg: err.Error()}
		}
		names := make([]string, 0, len(p.Dependencies))
		for n := range p.Dependencies {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ds, err := poetryDeps(n, p.Dependencies[n])
			if err != nil {
				return nil, &PoetryLockError{Package: p.Name, Msg: err.Error()}
			}
			deps[i] = append(deps[i], ds...)
		}
	}
	roots, err := projectDeps(proj)
	if err != nil {
		return nil, err
	}

	// A node is a package, or a package's extra; pkg -1 is the project.
	type node struct {
		pkg   int
		extra string
	}
	edges := func(n node) ([]lockEdge[node], error) {
		var ds []poetryDep
		switch {
		case n.pkg < 0:
			ds = roots
		case n.extra == "":
			for _, d := range deps[n.pkg] {
				if !d.Optional {
					ds = append(ds, d)
				}
			}
		default:
			ds = extraDeps(lk.Packages[n.pkg], deps[n.pkg], n.extra)
		}
		from := "the project"
		if n.pkg >= 0 {
			from = lk.Packages[n.pkg].Name
		}
		var es []lockEdge[node]
		for _, d := range ds {
			markers, skip, err := withoutExtras(d.Markers, n.extra != "")
			if err != nil {
				return nil, &PoetryLockError{Package: d.Name, Msg: err.Error()}
			}
			if skip {
				continue
			}
			for _, m := range markers {
				if !writableMarker(m) {
					return nil, &PoetryLockError{Package: d.Name, Msg: fmt.Sprintf("marker %q cannot be written in a requirements file", m)}
				}
			}
			cands := byName[NormalizeName(d.Name)]
			switch {
			case len(cands) == 0 && len(markers) > 0:
				continue // Poetry locked nothing for it: its marker cannot hold
			case len(cands) == 0 && n.pkg < 0:
				return nil, &PoetryLockError{Package: d.Name, Msg: "is a dependency of the project in pyproject.toml, which the lock does not list: the lock is older than pyproject.toml; run poetry lock"}
			case len(cands) == 0:
				return nil, &PoetryLockError{Package: from, Msg: fmt.Sprintf("depends on %s, which the lock does not list", d.Name)}
			case len(cands) > 1:
				return nil, &PoetryLockError{Package: d.Name, Msg: fmt.Sprintf("the lock lists it at %d versions (one per Python or platform); paved installs a lock with one version of each package", len(cands))}
			}
			c := cands[0]
			marker := ""
			if len(markers) > 0 {
				marker = "(" + strings.Join(markers, ") and (") + ")"
				if len(markers) == 1 {
					marker = markers[0]
				}
			}
			e := lockEdge[node]{to: []node{{pkg: c}}, marker: marker}
			for _, x := range d.Extras {
				e.to = append(e.to, node{pkg: c, extra: x})
			}
			es = append(es, e)
		}
		return es, nil
	}
	ways, err := reach(node{pkg: -1}, edges, func(t node) error {
		return &PoetryLockError{Package: lk.Packages[t.pkg].Name, Msg: "is needed under too many different markers to write them out"}
	})
	if err != nil {
		return nil, err
	}

	var picked []int
	for n := range ways {
		if n.extra == "" && n.pkg >= 0 {
			picked = append(picked, n.pkg)
		}
	}
	sort.Slice(picked, func(i, j int) bool {
		return NormalizeName(lk.Packages[picked[i]].Name) < NormalizeName(lk.Packages[picked[j]].Name)
	})
	var out bytes.Buffer
	out.WriteString("# from poetry.lock: the project's main dependencies, pinned and hashed\n")
	for _, i := range picked {
		p := lk.Packages[i]
		if p.Source != nil && p.Source.Type != "legacy" {
			t := p.Source.Type
			if t == "" {
				t = "untyped"
			}
			return nil, &PoetryLockError{Package: p.Name, Msg: fmt.Sprintf("comes from a %s source, not a package index: pip cannot check it by hash; publish it to an index and lock that", t)}
		}
		if !pinnedVersion.MatchString(p.Version) {
			return nil, &PoetryLockError{Package: p.Name, Msg: fmt.Sprintf("version %q is not one pip can pin", p.Version)}
		}
		if len(p.Groups) > 0 && !contains(p.Groups, "main") {
			return nil, &PoetryLockError{Package: p.Name, Msg: fmt.Sprintf("is needed at run time but the lock has it in groups %s only: the lock is older than pyproject.toml; run poetry lock", strings.Join(p.Groups, ", "))}
		}
		files := p.Files
		if len(files) == 0 {
			for k, fs := range lk.Metadata.Files {
				if NormalizeName(k) == NormalizeName(p.Name) {
					files = append(files, fs...)
				}
			}
		}
		var hashes []string
		seen := map[string]bool{}
		for _, f := range files {
			if f.Hash == "" || seen[f.Hash] {
				continue
			}
			if !hashValue.MatchString(f.Hash) {
				return nil, &PoetryLockError{Package: p.Name, Msg: fmt.Sprintf("hash %q is not sha256:<hex>", f.Hash)}
			}
			seen[f.Hash] = true
			hashes = append(hashes, f.Hash)
		}
		if len(hashes) == 0 {
			return nil, &PoetryLockError{Package: p.Name, Msg: "has no hashes, so pip could not check what it downloads"}
		}
		writePin(&out, p.Name, p.Version, markerOf(ways[node{pkg: i}]), hashes)
	}
	// What is written must read back as a lock.
	if _, err := ParseRequirements("requirements from "+PoetryLockFile, bytes.NewReader(out.Bytes())); err != nil {
		return nil, &PoetryLockError{Msg: err.Error()}
	}
	return out.Bytes(), nil
}

// projectDeps are the project's main dependencies: [project].dependencies
// when pyproject.toml has them (Poetry 2; [tool.poetry.dependencies] then
// only adds locking details), else [tool.poetry.dependencies] without
// python (Poetry 1). Optional ones are the project's extras, left out.
func projectDeps(proj pyprojectFile) ([]poetryDep, error) {
	var roots []poetryDep
	if proj.Project.Dependencies != nil {
		for _, s := range *proj.Project.Dependencies {
			d, err := parsePEP508(s)
			if err != nil {
				return nil, &PoetryLockError{Msg: "pyproject.toml: [project].dependencies: " + err.Error()}
			}
			roots = append(roots, d)
		}
		return roots, nil
	}
	names := make([]string, 0, len(proj.Tool.Poetry.Dependencies))
	for n := range proj.Tool.Poetry.Dependencies {
		if NormalizeName(n) != "python" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		ds, err := poetryDeps(n, proj.Tool.Poetry.Dependencies[n])
		if err != nil {
			return nil, &PoetryLockError{Package: n, Msg: "pyproject.toml: [tool.poetry.dependencies]: " + err.Error()}
		}
		for _, d := range ds {
			if !d.Optional {
				roots = append(roots, d)
			}
		}
	}
	return roots, nil
}

// extraDeps are what p's extra asks for: the requirements [package.extras]
// lists, with the markers and extras of p's (optional) dependency on each.
func extraDeps(p poetryPackage, deps []poetryDep, extra string) []poetryDep {
	var out []poetryDep
	for k, reqs := range p.Extras {
		if NormalizeName(k) != NormalizeName(extra) {
			continue
		}
		for _, r := range reqs {
			want, err := parsePEP508(r)
			if err != nil {
				// Not a requirement: name what it starts with, so the
				// walk says the lock does not list it.
				want = poetryDep{Name: strings.Fields(r + " ?")[0]}
			}
			found := false
			for _, d := range deps {
				if NormalizeName(d.Name) == NormalizeName(want.Name) {
					d.Markers = append(append([]string(nil), d.Markers...), want.Markers...)
					d.Extras = append(append([]string(nil), d.Extras...), want.Extras...)
					out = append(out, d)
					found = true
				}
			}
			if !found {
				out = append(out, want)
			}
		}
	}
	return out
}

// poetryDeps reads one dependency's value: a constraint string, a table,
// or a list of tables (one per Python or platform).
func poetryDeps(name string, v any) ([]poetryDep, error) {
	if !pinnedName.MatchString(name) {
		return nil, fmt.Errorf("dependency name %q is not a distribution name", name)
	}
	switch v := v.(type) {
	case string:
		return []poetryDep{{Name: name}}, nil
	case map[string]any:
		d := poetryDep{Name: name}
		if m, ok := v["markers"]; ok {
			s, ok := m.(string)
			if !ok {
				return nil, fmt.Errorf("dependency %s: markers is not a string", name)
			}
			if s = strings.TrimSpace(s); s != "" {
				d.Markers = append(d.Markers, s)
			}
		}
		if py, ok := v["python"]; ok {
			s, ok := py.(string)
			if !ok {
				return nil, fmt.Errorf("dependency %s: python is not a string", name)
			}
			m, err := pythonMarker(s)
			if err != nil {
				return nil, fmt.Errorf("dependency %s: python %q: %v", name, s, err)
			}
			if m != "" {
				d.Markers = append(d.Markers, m)
			}
		}
		if o, ok := v["optional"]; ok {
			b, ok := o.(bool)
			if !ok {
				return nil, fmt.Errorf("dependency %s: optional is not true or false", name)
			}
			d.Optional = b
		}
		if x, ok := v["extras"]; ok {
			xs, ok := x.([]any)
			if !ok {
				return nil, fmt.Errorf("dependency %s: extras is not a list", name)
			}
			for _, e := range xs {
				s, ok := e.(string)
				if !ok || !pinnedName.MatchString(s) {
					return nil, fmt.Errorf("dependency %s: extra %v is not a name", name, e)
				}
				d.Extras = append(d.Extras, s)
			}
		}
		return []poetryDep{d}, nil
	case []map[string]any:
		var out []poetryDep
		for _, t := range v {
			ds, err := poetryDeps(name, t)
			if err != nil {
				return nil, err
			}
			out = append(out, ds...)
		}
		return out, nil
	case []any:
		var out []poetryDep
		for _, t := range v {
			t, ok := t.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("dependency %s: a list of constraints holds something other than tables", name)
			}
			ds, err := poetryDeps(name, t)
			if err != nil {
				return nil, err
			}
			out = append(out, ds...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("dependency %s is not a version, a table or a list of tables", name)
}

// parsePEP508 reads name[extras] (constraint) ; marker.
func parsePEP508(s string) (poetryDep, error) {
	m := pep508.FindStringSubmatch(s)
	if m == nil {
		return poetryDep{}, fmt.Errorf("%q is not a requirement", s)
	}
	d := poetryDep{Name: m[1]}
	if m[2] != "" {
		for _, x := range strings.Split(m[2], ",") {
			if x = strings.TrimSpace(x); x != "" {
				if !pinnedName.MatchString(x) {
					return poetryDep{}, fmt.Errorf("%q: extra %q is not a name", s, x)
				}
				d.Extras = append(d.Extras, x)
			}
		}
	}
	if mk := strings.TrimSpace(m[4]); mk != "" {
		d.Markers = []string{mk}
	}
	return d, nil
}

// checkPoetryMarkers checks a lock 2.1 package's markers: a string, or a
// table of them by group. (They summarize the walk paved does itself.)
func checkPoetryMarkers(m any) error {
	switch m := m.(type) {
	case nil, string:
		return nil
	case map[string]any:
		for g, v := range m {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("markers for group %s is not a string", g)
			}
		}
		return nil
	}
	return fmt.Errorf("markers is not a string or a table of them by group")
}

var (
	// extraWord: a marker that compares extra.
	extraWord = regexp.MustCompile(`\bextra\b`)
	// extraOnly is one extra == "name" comparison.
	extraOnly = regexp.MustCompile(`^extra\s*==\s*("[^"]*"|'[^']*')$`)
)

// withoutExtras drops extra == "…" from a dependency's markers, as poetry
// export does: in a requirements file no extra is set, so pip would skip
// the package. Through an extra (viaExtra) the dependency is needed with
// the rest of its markers; otherwise one under an extra's marker is
// needed with that extra only, which the walk follows through
// [package.extras], so skip is true.
func withoutExtras(markers []string, viaExtra bool) (out []string, skip bool, err error) {
	for _, m := range markers {
		rest, named, err := stripExtra(m)
		if err != nil {
			return nil, false, fmt.Errorf("marker %q: %v", m, err)
		}
		if named && !viaExtra {
			return nil, true, nil
		}
		if rest != "" {
			out = append(out, rest)
		}
	}
	return out, false, nil
}

// stripExtra is m without its extra == "…" comparisons, and whether it
// had any. One that is not a term of an and (extra == "a" or extra ==
// "b") is an error.
func stripExtra(m string) (string, bool, error) {
	m = strings.TrimSpace(m)
	if !extraWord.MatchString(m) {
		return m, false, nil
	}
	if extraOnly.MatchString(m) {
		return "", true, nil
	}
	if len(m) > 1 && m[0] == '(' && closing(m) == len(m)-1 {
		return stripExtra(m[1 : len(m)-1])
	}
	if len(splitTop(m, " or ")) > 1 {
		return "", true, fmt.Errorf("an extra inside an or cannot be taken apart")
	}
	parts := splitTop(m, " and ")
	if len(parts) < 2 {
		return "", true, fmt.Errorf("compares extra in a way paved cannot take apart")
	}
	var keep []string
	for _, p := range parts {
		r, _, err := stripExtra(p)
		if err != nil {
			return "", true, err
		}
		if r != "" {
			keep = append(keep, r)
		}
	}
	return strings.Join(keep, " and "), true, nil
}

// closing is the index of the parenthesis that closes m's first one, or -1.
func closing(m string) int {
	at := -1
	scanTop(m, func(i, depth int) (int, bool) {
		if m[i] == ')' && depth == 0 {
			at = i
			return 0, true
		}
		return 0, false
	})
	return at
}

// splitTop splits m at sep outside parentheses and quotes.
func splitTop(m, sep string) []string {
	var parts []string
	start := 0
	scanTop(m, func(i, depth int) (int, bool) {
		if depth == 0 && strings.HasPrefix(m[i:], sep) {
			parts = append(parts, m[start:i])
			start = i + len(sep)
			return len(sep) - 1, false
		}
		return 0, false
	})
	return append(parts, m[start:])
}

// scanTop calls f with each index of m outside quotes and the parenthesis
// depth after that byte; f says how many bytes to skip, or to stop.
func scanTop(m string, f func(i, depth int) (skip int, stop bool)) {
	depth, quote := 0, byte(0)
	for i := 0; i < len(m); i++ {
		switch c := m[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case c == '"' || c == '\'':
			quote = c
			continue
		case c == '(':
			depth++
		case c == ')':
			depth--
		}
		skip, stop := f(i, depth)
		if stop {
			return
		}
		i += skip
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pythonConstraint is one comparison of a Poetry version constraint.
var pythonConstraint = regexp.MustCompile(`^\s*(\^|~=|~|>=|<=|!=|==|>|<|=)?\s*([0-9]+(?:\.[0-9]+)*)(\.\*)?\s*(?:,\s*)?`)

// pythonMarker turns the python = "…" constraint of a Poetry dependency
// into the marker poetry export writes: ">=3.9,<3.12" is python_version >=
// "3.9" and python_version < "3.12"; "^3.9" is >=3.9,<4.0; "~3.9" is
// >=3.9,<3.10; || joins alternatives. "" is always.
func pythonMarker(c string) (string, error) {
	var alts []string
	for _, alt := range strings.Split(c, "||") {
		alt = strings.TrimSpace(alt)
		if alt == "" || alt == "*" {
			return "", nil
		}
		var clauses []string
		for alt != "" {
			m := pythonConstraint.FindStringSubmatch(alt)
			if m == nil || m[0] == "" {
				return "", fmt.Errorf("not a version constraint paved can read")
			}
			alt = strings.TrimSpace(alt[len(m[0]):])
			op, ver, wild := m[1], m[2], m[3] != ""
			parts := strings.Split(ver, ".")
			switch {
			case wild && (op == "" || op == "=" || op == "=="):
				clauses = append(clauses, pyCmp(">=", ver), pyCmp("<", bump(parts, len(parts)-1)))
			case wild:
				return "", fmt.Errorf("a wildcard only goes with ==")
			case op == "^":
				i := 0
				for i < len(parts)-1 && parts[i] == "0" {
					i++
				}
				clauses = append(clauses, pyCmp(">=", ver), pyCmp("<", bump(parts, i)))
			case op == "~":
				clauses = append(clauses, pyCmp(">=", ver), pyCmp("<", bump(parts, min(1, len(parts)-1))))
			case op == "~=":
				if len(parts) < 2 {
					return "", fmt.Errorf("~= needs two parts of a version")
				}
				clauses = append(clauses, pyCmp(">=", ver), pyCmp("<", bump(parts, len(parts)-2)))
			case op == "" || op == "=":
				clauses = append(clauses, pyCmp("==", ver))
			default:
				clauses = append(clauses, pyCmp(op, ver))
			}
		}
		alts = append(alts, strings.Join(clauses, " and "))
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(" + strings.Join(alts, ") or (") + ")", nil
}

// pyCmp compares the Python version with v: python_version holds major.minor,
// so a three-part version is compared with python_full_version.
func pyCmp(op, v string) string {
	name := "python_version"
	if strings.Count(v, ".") >= 2 {
		name = "python_full_version"
	}
	return fmt.Sprintf("%s %s %q", name, op, v)
}

// bump is the version parts up to i, with part i one higher: the upper
// bound of a caret, tilde or wildcard constraint.
func bump(parts []string, i int) string {
	out := append([]string(nil), parts[:i+1]...)
	n, _ := strconv.Atoi(out[i])
	out[i] = strconv.Itoa(n + 1)
	if len(out) == 1 {
		out = append(out, "0")
	}
	return strings.Join(out, ".")
}
