// Package version says which paved this is: the release version a binary
// was built at, or for a build from a git checkout, the commit it was
// built from, so that `paved version` and the builder version in signed
// provenance never say only "(devel)".
package version

import (
	"runtime/debug"
	"time"
)

// Paved is paved's module path.
const Paved = "github.com/pavedhq/paved"

// Devel is the version of a build that carries neither a release version
// nor version control information (go build -buildvcs=false, go run, a
// git worktree, which the go command does not stamp).
const Devel = "devel"

// Module is the version of module path as linked into this program.
func Module(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Devel
	}
	return Of(bi, path)
}

// Of is the version of module path in bi: for the main module, see Main;
// for a dependency, its version (or its replacement's), "" when bi does
// not link it.
func Of(bi *debug.BuildInfo, path string) string {
	if bi.Main.Path == path {
		return Main(bi)
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// Main is the main module's version: the one the go command stamped (a
// release tag, or since Go 1.24 a pseudo-version for a checkout), else one
// made the same way from the vcs.revision, vcs.time and vcs.modified
// settings, v0.0.0-<UTC commit time>-<12 hex digits>[+dirty], else Devel.
func Main(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return Devel
	}
	short := rev[:min(12, len(rev))]
	v := Devel + "-" + short
	if t, err := time.Parse(time.RFC3339Nano, at); err == nil {
		v = "v0.0.0-" + t.UTC().Format("20060102150405") + "-" + short
	}
	if dirty {
		v += "+dirty"
	}
	return v
}
