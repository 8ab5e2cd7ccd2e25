package python

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/BurntSushi/toml"
)

// UVLockFile is the name uv gives its lock.
const UVLockFile = "uv.lock"

// UVLockError is a uv.lock that paved will not install from; Package is
// "" when the file as a whole is at fault.
type UVLockError struct {
	Package string
	Msg     string
}

func (e *UVLockError) Error() string {
	if e.Package == "" {
		return UVLockFile + ": " + e.Msg
	}
	return fmt.Sprintf("%s: package %s: %s", UVLockFile, e.Package, e.Msg)
}

type uvLock struct {
	Version  *int64      `toml:"version"`
	Packages []uvPackage `toml:"package"`
}

type uvPackage struct {
	Name         string             `toml:"name"`
	Version      string             `toml:"version"`
	Source       map[string]any     `toml:"source"`
	Dependencies []uvDep            `toml:"dependencies"`
	Optional     map[string][]uvDep `toml:"optional-dependencies"`
	Sdist        *uvDist            `toml:"sdist"`
	Wheels       []uvDist           `toml:"wheels"`
}

type uvDep struct {
	Name    string   `toml:"name"`
	Version string   `toml:"version"`
	Marker  string   `toml:"marker"`
	Extra   []string `toml:"extra"`
}

type uvDist struct {
	Hash string `toml:"hash"`
}

// RequirementsFromUVLock turns a uv.lock into the requirements file that
// uv export --format requirements-txt --no-dev --no-emit-project writes:
// the project's runtime dependencies and everything they need, each
// pinned with every hash of its wheels and sdist and with the markers
// under which it is needed. The project's dev and optional dependencies
// are left out. A package that pip could not check by hash (no hashes; a
// git, path, directory or URL source) is a *UVLockError, as are a lock
// version other than 1 and a malformed file.
func RequirementsFromUVLock(b []byte) ([]byte, error) {
	if len(b) > maxRequirementsSize {
		return nil, &UVLockError{Msg: fmt.Sprintf("larger than %d bytes", maxRequirementsSize)}
	}
	var lock uvLock
	if _, err := toml.Decode(string(b), &lock); err != nil {
		return nil, &UVLockError{Msg: "not a lock paved can read: " + err.Error()}
	}
	if lock.Version == nil || *lock.Version != 1 {
		v := "none"
		if lock.Version != nil {
			v = fmt.Sprint(*lock.Version)
		}
		return nil, &UVLockError{Msg: fmt.Sprintf("lock version %s: paved reads version 1", v)}
	}

	root := -1
	byName := map[string][]int{}
	for i, p := range lock.Packages {
		if !pinnedName.MatchString(p.Name) {
			return nil, &UVLockError{Msg: fmt.Sprintf("package name %q is not a distribution name", p.Name)}
		}
		n := NormalizeName(p.Name)
		byName[n] = append(byName[n], i)
		if isProject(p.Source) {
			if root >= 0 {
				return nil, &UVLockError{Msg: fmt.Sprintf("two packages are the project (%s and %s)", lock.Packages[root].Name, p.Name)}
			}
			root = i
		}
	}
	if root < 0 {
		return nil, &UVLockError{Msg: `no package is the project (source = { virtual = "." } or { editable = "." })`}
	}

	// A node is a package, or a package's extra: "i" or "i[extra]".
	type node struct {
		pkg   int
		extra string
	}
	resolve := func(from int, d uvDep) (int, error) {
		cands := byName[NormalizeName(d.Name)]
		var match []int
		for _, c := range cands {
			if d.Version == "" || lock.Packages[c].Version == d.Version {
				match = append(match, c)
			}
		}
		switch {
		case len(match) == 1:
			return match[0], nil
		case len(match) == 0:
			return 0, &UVLockError{Package: lock.Packages[from].Name, Msg: fmt.Sprintf("depends on %s %s, which the lock does not list", d.Name, d.Version)}
		}
		return 0, &UVLockError{Package: lock.Packages[from].Name, Msg: fmt.Sprintf("depends on %s, which the lock lists at %d versions, without saying which", d.Name, len(match))}
	}
	edges := func(n node) ([]lockEdge[node], error) {
		p := lock.Packages[n.pkg]
		deps := p.Dependencies
		if n.extra != "" {
			deps = nil
			for k, ds := range p.Optional {
				if NormalizeName(k) == NormalizeName(n.extra) {
					deps = ds
				}
			}
		}
		var es []lockEdge[node]
		for _, d := range deps {
			if !writableMarker(d.Marker) {
				return nil, &UVLockError{Package: d.Name, Msg: fmt.Sprintf("marker %q cannot be written in a requirements file", d.Marker)}
			}
			c, err := resolve(n.pkg, d)
			if err != nil {
				return nil, err
			}
			e := lockEdge[node]{to: []node{{pkg: c}}, marker: d.Marker}
			for _, x := range d.Extra {
				e.to = append(e.to, node{pkg: c, extra: x})
			}
			es = append(es, e)
		}
		return es, nil
	}
	ways, err := reach(node{pkg: root}, edges, func(t node) error {
		return &UVLockError{Package: lock.Packages[t.pkg].Name, Msg: "is needed under too many different markers to write them out"}
	})
	if err != nil {
		return nil, err
	}

	var picked []int
	for n := range ways {
		if n.extra == "" && n.pkg != root {
			picked = append(picked, n.pkg)
		}
	}
	sort.Slice(picked, func(i, j int) bool {
		a, b := lock.Packages[picked[i]], lock.Packages[picked[j]]
		if na, nb := NormalizeName(a.Name), NormalizeName(b.Name); na != nb {
			return na < nb
		}
		return a.Version < b.Version
	})
	var out bytes.Buffer
	out.WriteString("# from uv.lock: the project's runtime dependencies, pinned and hashed\n")
	for _, i := range picked {
		p := lock.Packages[i]
		if err := checkSource(p); err != nil {
			return nil, err
		}
		if !pinnedVersion.MatchString(p.Version) {
			return nil, &UVLockError{Package: p.Name, Msg: fmt.Sprintf("version %q is not one pip can pin", p.Version)}
		}
		var hashes []string
		seen := map[string]bool{}
		dists := p.Wheels
		if p.Sdist != nil {
			dists = append(append([]uvDist(nil), p.Wheels...), *p.Sdist)
		}
		for _, d := range dists {
			if d.Hash == "" || seen[d.Hash] {
				continue
			}
			if !hashValue.MatchString(d.Hash) {
				return nil, &UVLockError{Package: p.Name, Msg: fmt.Sprintf("hash %q is not sha256:<hex>", d.Hash)}
			}
			seen[d.Hash] = true
			hashes = append(hashes, d.Hash)
		}
		if len(hashes) == 0 {
			return nil, &UVLockError{Package: p.Name, Msg: "has no hashes, so pip could not check what it downloads"}
		}
		writePin(&out, p.Name, p.Version, markerOf(ways[node{pkg: i}]), hashes)
	}
	// What is written must read back as a lock; a clash (one name pinned
	// twice under the same markers) shows here rather than in pip.
	if _, err := ParseRequirements("requirements from "+UVLockFile, bytes.NewReader(out.Bytes())); err != nil {
		return nil, &UVLockError{Msg: err.Error()}
	}
	return out.Bytes(), nil
}

// isProject is true for the package uv locks the project as.
func isProject(src map[string]any) bool {
	return src["virtual"] == "." || src["editable"] == "."
}

// checkSource refuses what pip would fetch from elsewhere than an index:
// the hashes in the lock would not cover a git checkout or a local tree.
func checkSource(p uvPackage) error {
	if len(p.Source) == 0 {
		return &UVLockError{Package: p.Name, Msg: "has no source"}
	}
	for k := range p.Source {
		if k != "registry" {
			return &UVLockError{Package: p.Name, Msg: fmt.Sprintf("comes from a %s source, not a package index: pip cannot check it by hash; publish it to an index and lock that", k)}
		}
	}
	return nil
}
