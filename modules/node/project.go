package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Project is a Node.js project: a directory with a package.json and a
// lockfile.
type Project struct {
	Dir     string
	Manager Manager
	Package Package
}

// Package is what paved reads of package.json.
type Package struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Type    string            `json:"type"`
	Main    string            `json:"main"`
	Files   []string          `json:"files"`
	Scripts map[string]string `json:"scripts"`
}

// maxPackageJSON bounds package.json; real ones are a few kilobytes.
const maxPackageJSON = 4 << 20

// ParsePackage reads package.json.
func ParsePackage(b []byte) (Package, error) {
	var p Package
	if len(b) > maxPackageJSON {
		return p, fmt.Errorf("package.json: %d bytes is more than %d", len(b), maxPackageJSON)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("package.json: %w", err)
	}
	if p.Main != "" {
		if err := relPath(p.Main); err != nil {
			return p, fmt.Errorf("package.json: main: %w", err)
		}
	}
	for _, f := range p.Files {
		if err := relPath(f); err != nil {
			return p, fmt.Errorf("package.json: files: %w", err)
		}
		if strings.ContainsAny(f, "*?[{!") {
			return p, fmt.Errorf("package.json: files: %q is a pattern; paved copies paths (files and directories) only", f)
		}
	}
	return p, nil
}

// relPath accepts a path inside the project.
func relPath(p string) error {
	c := path.Clean(filepath.ToSlash(p))
	if p == "" || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return fmt.Errorf("%q is not a path inside the project", p)
	}
	return nil
}

// Open reads dir's package.json and finds its lockfile and package
// manager. A project without a lockfile is an error: paved installs
// exactly what a lockfile pins, never what a registry has today.
func Open(dir string) (*Project, error) {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no package.json", dir)
	}
	if err != nil {
		return nil, err
	}
	pkg, err := ParsePackage(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m, err := detect(dir)
	if err != nil {
		return nil, err
	}
	return &Project{Dir: dir, Manager: m, Package: pkg}, nil
}

// Manager is the package manager a lockfile belongs to.
type Manager struct {
	Name     string // npm, pnpm or yarn
	Lockfile string // its file name
	Berry    bool   // yarn 2 or later (.yarnrc.yml)
}

var lockfiles = []Manager{
	{Name: "npm", Lockfile: "package-lock.json"},
	{Name: "npm", Lockfile: "npm-shrinkwrap.json"},
	{Name: "pnpm", Lockfile: "pnpm-lock.yaml"},
	{Name: "yarn", Lockfile: "yarn.lock"},
}

func detect(dir string) (Manager, error) {
	for _, m := range lockfiles {
		if _, err := os.Stat(filepath.Join(dir, m.Lockfile)); err != nil {
			continue
		}
		if m.Name == "yarn" {
			if _, err := os.Stat(filepath.Join(dir, ".yarnrc.yml")); err == nil {
				m.Berry = true
			}
		}
		return m, nil
	}
	return Manager{}, fmt.Errorf("%s has no lockfile (package-lock.json, pnpm-lock.yaml or yarn.lock): run npm install (or pnpm or yarn) and commit the lockfile", dir)
}

// Tool finds the manager's program on PATH.
func (m Manager) Tool() (string, error) {
	p, err := exec.LookPath(m.Name)
	if err != nil {
		hint := "install Node.js, which brings npm"
		if m.Name != "npm" {
			hint = "corepack enable " + m.Name + ", or npm install --global " + m.Name
		}
		return "", fmt.Errorf("%s needs %s, which is not on PATH (%s)", m.Lockfile, m.Name, hint)
	}
	return p, nil
}

// installArgs installs exactly the lockfile; production leaves out
// devDependencies.
func (m Manager) installArgs(production bool) []string {
	switch {
	case m.Name == "pnpm":
		a := []string{"install", "--frozen-lockfile"}
		if production {
			a = append(a, "--prod")
		}
		return a
	case m.Name == "yarn" && m.Berry:
		if production {
			return []string{"workspaces", "focus", "--all", "--production"}
		}
		return []string{"install", "--immutable"}
	case m.Name == "yarn":
		a := []string{"install", "--frozen-lockfile", "--non-interactive"}
		if production {
			a = append(a, "--production")
		}
		return a
	}
	a := []string{"ci", "--no-audit", "--no-fund"}
	if production {
		a = append(a, "--omit=dev")
	}
	return a
}

// scriptArgs runs a package.json script with extra arguments.
func (m Manager) scriptArgs(name string, extra ...string) []string {
	a := []string{"run", name}
	if len(extra) > 0 {
		if m.Name != "yarn" {
			a = append(a, "--")
		}
		a = append(a, extra...)
	}
	return a
}
