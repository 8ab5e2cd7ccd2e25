package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// InstalledPackage is a package installed under a project's node_modules.
type InstalledPackage struct {
	Name, Version string
	// Dir is the package's real directory (symbolic links resolved),
	// relative to the project, with forward slashes: node_modules/a,
	// node_modules/a/node_modules/b, or pnpm's
	// node_modules/.pnpm/a@1.0.0/node_modules/a.
	Dir string
}

// manifest is what the walk reads of an installed package.json.
type manifest struct {
	Name, Version string
	Deps          []string // dependencies, but for those also optional
	OptionalDeps  []string // optionalDependencies: may be skipped (another platform's)
	Peers         []string // peerDependencies: the host's to provide
}

// parseManifest reads an installed package.json. Every dependency name it
// returns is a valid npm package name (a name or @scope/name, no path
// elements), so joining it to a directory stays below that directory.
func parseManifest(b []byte) (manifest, error) {
	var raw struct {
		Name                 string            `json:"name"`
		Version              string            `json:"version"`
		Dependencies         map[string]string `json:"dependencies"`
		OptionalDependencies map[string]string `json:"optionalDependencies"`
		PeerDependencies     map[string]string `json:"peerDependencies"`
	}
	if len(b) > maxPackageJSON {
		return manifest{}, fmt.Errorf("%d bytes is more than %d", len(b), maxPackageJSON)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return manifest{}, err
	}
	m := manifest{Name: raw.Name, Version: raw.Version}
	names := func(field string, deps map[string]string, skip map[string]string) ([]string, error) {
		var out []string
		for n := range deps {
			if err := checkPackageName(n); err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			// npm lists an optional dependency in both maps.
			if _, ok := skip[n]; !ok {
				out = append(out, n)
			}
		}
		sort.Strings(out)
		return out, nil
	}
	var err error
	if m.Deps, err = names("dependencies", raw.Dependencies, raw.OptionalDependencies); err != nil {
		return m, err
	}
	if m.OptionalDeps, err = names("optionalDependencies", raw.OptionalDependencies, nil); err != nil {
		return m, err
	}
	if m.Peers, err = names("peerDependencies", raw.PeerDependencies, nil); err != nil {
		return m, err
	}
	return m, nil
}

// checkPackageName accepts what npm accepts as a package name, as far as
// paths go: name or @scope/name, neither empty nor starting with a dot,
// nothing a path would read as a separator or a parent.
func checkPackageName(n string) error {
	bad := func() error { return fmt.Errorf("%q is not a package name", n) }
	rest := n
	if strings.HasPrefix(n, "@") {
		scope, name, ok := strings.Cut(n[1:], "/")
		if !ok || !nameSegment(scope) {
			return bad()
		}
		rest = name
	}
	if !nameSegment(rest) {
		return bad()
	}
	return nil
}

func nameSegment(s string) bool {
	return s != "" && len(s) <= 214 && s[0] != '.' && s[0] != '_' && s != "node_modules" &&
		!strings.ContainsAny(s, "/\\:\x00")
}

// ProductionPackages lists the production packages installed in the
// project's node_modules: those Node's module resolution reaches from
// package.json's dependencies and optionalDependencies, then from each
// package's dependencies, optionalDependencies and peerDependencies,
// following symbolic links as Node and the bundlers do. It reads what is
// installed, not a lockfile, so it works alike for npm, pnpm (whose
// node_modules links into its .pnpm directory) and yarn 1, and finds
// exactly the copies a bundler inlines: two versions of one package are
// two entries. Development dependencies are not reached unless a
// production package needs them too. A dependency that is not installed
// is an error naming it, unless it is optional.
func (p *Project) ProductionPackages() ([]InstalledPackage, error) {
	root, err := filepath.EvalSymlinks(p.Dir)
	if err != nil {
		return nil, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return nil, err
	}
	top, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("package.json: %w", err)
	}
	type want struct {
		from, name, by string
		optional       bool
	}
	var queue []want
	add := func(from, by string, m manifest) {
		for _, n := range m.Deps {
			queue = append(queue, want{from, n, by, false})
		}
		for _, n := range append(m.OptionalDeps, m.Peers...) {
			queue = append(queue, want{from, n, by, true})
		}
	}
	// The project's own peerDependencies are its host's to provide.
	top.Peers = nil
	add(root, "package.json", top)

	seen := map[string]bool{root: true}
	var out []InstalledPackage
	var missing []string
	for len(queue) > 0 {
		w := queue[0]
		queue = queue[1:]
		dir, ok := resolve(root, w.from, w.name)
		if !ok {
			if !w.optional {
				missing = append(missing, w.name+" (a dependency of "+w.by+")")
			}
			continue
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		rel, err := filepath.Rel(root, dir)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s resolves to %s, outside the project", w.name, dir)
		}
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(filepath.Join(dir, "package.json"))
		if err != nil {
			return nil, err
		}
		m, err := parseManifest(b)
		if err != nil {
			return nil, fmt.Errorf("%s/package.json: %w", rel, err)
		}
		if strings.HasPrefix(rel, "node_modules/") {
			if m.Name == "" || m.Version == "" {
				return nil, fmt.Errorf("%s/package.json has no name or no version", rel)
			}
			out = append(out, InstalledPackage{Name: m.Name, Version: m.Version, Dir: rel})
		}
		// A package linked from elsewhere in the project (a workspace
		// member) is the application's own code, not listed; what it
		// needs is.
		add(dir, m.Name+"@"+m.Version, m)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%s: production dependencies are not installed: %s (install again: %s %s)",
			p.Manager.Lockfile, strings.Join(dedupe(missing), ", "), p.Manager.Name, strings.Join(p.Manager.installArgs(false), " "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// resolve finds name as Node does from the real directory from: in
// from/node_modules, then in each parent's, up to the project's root; a
// directory named node_modules is not searched in itself. It returns the
// package's real directory. Unlike Node it stops at a link whose target
// is gone (pnpm's link to a package it did not install): a broken install
// is not resolved past, to some other version further up.
func resolve(root, from, name string) (string, bool) {
	for d := from; ; d = filepath.Dir(d) {
		if filepath.Base(d) != "node_modules" {
			cand := filepath.Join(d, "node_modules", filepath.FromSlash(name))
			if fi, err := os.Stat(filepath.Join(cand, "package.json")); err == nil && fi.Mode().IsRegular() {
				real, err := filepath.EvalSymlinks(cand)
				if err == nil {
					return real, true
				}
			}
			if fi, err := os.Lstat(cand); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				return "", false
			}
		}
		if d == root || len(d) <= len(root) {
			return "", false
		}
	}
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
