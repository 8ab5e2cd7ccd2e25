package python

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// How paved reads the locks it turns into requirements files: a
// package's dependency graph walked from the project, each package
// reached collecting the markers under which it is needed, then written
// out as a pinned, hashed requirements file.

var (
	// What the requirements parser reads as a name and a pinned version.
	pinnedName    = regexp.MustCompile(`^` + namePattern + `$`)
	pinnedVersion = regexp.MustCompile(`^` + versionPattern + `$`)
)

// maxMarkerAlternatives bounds the ways a package can be reached with
// different markers; past it the markers are too tangled to carry.
const maxMarkerAlternatives = 32

// lockEdge is a dependency as the walk follows it: to every node in to
// (a package and the extras asked of it), under marker ("" for always).
type lockEdge[N comparable] struct {
	to     []N
	marker string
}

// reach walks a lock's graph from start: each reached node holds the ways
// it is reached, as sets of markers that all hold on the way; an empty set
// means always. edges lists a node's dependencies, or fails the walk;
// tooMany is the error for a node reached under too many markers.
func reach[N comparable](start N, edges func(N) ([]lockEdge[N], error), tooMany func(N) error) (map[N][][]string, error) {
	ways := map[N][][]string{start: {{}}}
	work := []N{start}
	for len(work) > 0 {
		n := work[len(work)-1]
		work = work[:len(work)-1]
		es, err := edges(n)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			for _, w := range ways[n] {
				way := w
				if m := strings.TrimSpace(e.marker); m != "" {
					way = addMarker(w, m)
				}
				for _, t := range e.to {
					next, changed := addWay(ways[t], way)
					if !changed {
						continue
					}
					if len(next) > maxMarkerAlternatives {
						return nil, tooMany(t)
					}
					ways[t] = next
					work = append(work, t)
				}
			}
		}
	}
	return ways, nil
}

// writableMarker is false for a marker that would break out of its line
// of a requirements file (a line break, a continuation, a comment, an
// option).
func writableMarker(m string) bool {
	return !strings.ContainsAny(m, "\r\n\\#;") && !strings.Contains(m, "--")
}

// writePin writes one requirement as uv export and poetry export do:
// name==version ; marker, then a --hash line per hash.
func writePin(out *bytes.Buffer, name, version, marker string, hashes []string) {
	fmt.Fprintf(out, "%s==%s", name, version)
	if marker != "" {
		fmt.Fprintf(out, " ; %s", marker)
	}
	for _, h := range hashes {
		fmt.Fprintf(out, " \\\n    --hash=%s", h)
	}
	out.WriteByte('\n')
}

// addMarker is way with m added, kept sorted and without repeats.
func addMarker(way []string, m string) []string {
	i := sort.SearchStrings(way, m)
	if i < len(way) && way[i] == m {
		return way
	}
	out := make([]string, 0, len(way)+1)
	out = append(out, way[:i]...)
	out = append(out, m)
	return append(out, way[i:]...)
}

// addWay adds way to ways unless a way with a subset of its markers is
// there already (it would add nothing), dropping ways it covers.
func addWay(ways [][]string, way []string) ([][]string, bool) {
	for _, w := range ways {
		if subset(w, way) {
			return ways, false
		}
	}
	var out [][]string
	for _, w := range ways {
		if !subset(way, w) {
			out = append(out, w)
		}
	}
	return append(out, way), true
}

// subset: every marker of a is in b (both sorted).
func subset(a, b []string) bool {
	j := 0
	for _, m := range a {
		for j < len(b) && b[j] < m {
			j++
		}
		if j == len(b) || b[j] != m {
			return false
		}
		j++
	}
	return true
}

// markerOf is the environment marker for the ways a package is reached:
// "" when one way needs none.
func markerOf(ways [][]string) string {
	var alts []string
	for _, w := range ways {
		if len(w) == 0 {
			return ""
		}
		if len(w) == 1 {
			alts = append(alts, w[0])
			continue
		}
		alts = append(alts, "("+strings.Join(w, ") and (")+")")
	}
	sort.Strings(alts)
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, ") or (") + ")"
}
