package frontend

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// BundledDir is where the image keeps the package manifests of what the
// bundle holds. A built single-page application is a few JavaScript files
// in which the production dependencies are inlined: nothing in them says
// which packages, at which versions, went in. Syft and Trivy find npm
// packages in an image by their package.json under node_modules (they
// read lock files only in source trees), so the image carries, out of the
// served directory, the package.json of every production dependency as
// installed (npm: the packages package-lock.json lists, with the lock
// file itself; pnpm and yarn 1: those Node resolves in node_modules) and
// the application's own package.json. Development dependencies (the
// bundler, the test runner) are left out: they built the files but are
// not in them.
const BundledDir = "/app/bundled"

// lockFile is the part of package-lock.json (lockfileVersion 2 and 3)
// that says what is installed and why.
type lockFile struct {
	LockfileVersion int                    `json:"lockfileVersion"`
	Packages        map[string]lockPackage `json:"packages"`
}

type lockPackage struct {
	Version     string `json:"version"`
	Dev         bool   `json:"dev"`
	DevOptional bool   `json:"devOptional"`
	Optional    bool   `json:"optional"`
	Link        bool   `json:"link"`
}

// bundledPackage is a production dependency: its directory under the
// project (node_modules/a, node_modules/a/node_modules/@s/b) and whether
// npm may have skipped it (an optional dependency for another platform).
type bundledPackage struct {
	Dir      string
	Optional bool
}

// productionPackages reads package-lock.json and returns its production
// packages, sorted by directory. Every Dir is a clean relative path under
// node_modules, whatever the file says.
func productionPackages(data []byte) ([]bundledPackage, error) {
	var lf lockFile
	if err := json.Unmarshal(data, &lf); err != nil {
		return nil, fmt.Errorf("package-lock.json: %w", err)
	}
	if lf.LockfileVersion < 2 || lf.Packages == nil {
		return nil, fmt.Errorf("package-lock.json: lockfileVersion %d has no \"packages\" section; write it again with npm 7 or later (npm install --lockfile-version 3)", lf.LockfileVersion)
	}
	var out []bundledPackage
	for dir, p := range lf.Packages {
		if dir == "" || p.Dev || p.DevOptional || p.Link {
			continue
		}
		if !strings.HasPrefix(dir, "node_modules/") {
			// A workspace member: its own files are the application's.
			continue
		}
		if err := checkPackageDir(dir); err != nil {
			return nil, fmt.Errorf("package-lock.json: packages[%q]: %w", dir, err)
		}
		out = append(out, bundledPackage{Dir: dir, Optional: p.Optional})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, nil
}

// checkPackageDir refuses a directory that would leave the project or
// name something other than a package: each node_modules is followed by
// a name or a @scope/name.
func checkPackageDir(dir string) error {
	if !fs.ValidPath(dir) || strings.ContainsAny(dir, "\\\x00:") {
		return fmt.Errorf("not a clean relative path")
	}
	parts := strings.Split(dir, "/")
	for i := 0; i < len(parts); {
		if parts[i] != "node_modules" || i+1 >= len(parts) {
			return fmt.Errorf("not a package directory under node_modules")
		}
		i++
		if strings.HasPrefix(parts[i], "@") {
			if len(parts[i]) == 1 || i+1 >= len(parts) {
				return fmt.Errorf("scope %q without a package name", parts[i])
			}
			i++
		}
		if strings.HasPrefix(parts[i], ".") || parts[i] == "node_modules" {
			return fmt.Errorf("package name %q", parts[i])
		}
		i++
	}
	return nil
}
