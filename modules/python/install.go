package python

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// InstallOptions says what to install where.
type InstallOptions struct {
	Python       Interpreter
	Requirements string   // the lock: a requirements file, every line pinned, a uv.lock or a poetry.lock
	Target       string   // pip install --target; created, and must be empty
	Env          []string // the environment for pip (its configuration: PIP_*)
}

// Package is an installed distribution.
type Package struct {
	Name    string `json:"name"` // normalized
	Version string `json:"version"`
}

// Install reads the lock, refuses it unless every requirement is pinned,
// runs pip install --target, and checks that pip installed exactly what the
// lock pins: a dependency the lock does not pin would come from whatever
// the index serves that day.
//
// A uv.lock or a poetry.lock (by name) is first turned into requirements
// with RequirementsFromUVLock or RequirementsFromPoetryLock (reading the
// pyproject.toml beside it), written to a temporary file for pip.
func Install(ctx context.Context, opts InstallOptions) ([]Package, error) {
	if base := filepath.Base(opts.Requirements); base == UVLockFile || base == PoetryLockFile {
		reqs, err := ConvertLock(opts.Requirements)
		if err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp("", "lock-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		// Named after the lock so pip's messages and the check below name it.
		p := filepath.Join(tmp, base)
		if err := os.WriteFile(p, reqs, 0o644); err != nil {
			return nil, err
		}
		opts.Requirements = p
	}
	f, err := os.Open(opts.Requirements)
	if err != nil {
		return nil, err
	}
	reqs, err := ParseRequirements(filepath.Base(opts.Requirements), f)
	f.Close()
	if err != nil {
		return nil, err
	}
	if _, err := opts.Python.require(ctx, "pip"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Target, 0o755); err != nil {
		return nil, err
	}
	if len(reqs) > 0 {
		args := []string{"-m", "pip", "install", "--target", opts.Target, "--requirement", opts.Requirements,
			"--no-compile", "--disable-pip-version-check", "--no-input", "--no-warn-script-location", "--quiet"}
		cmd := exec.CommandContext(ctx, opts.Python.Path, args...)
		cmd.Env = append(opts.Env, "PYTHONDONTWRITEBYTECODE=1")
		var out tailBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("pip install --requirement %s: %w\n%s", filepath.Base(opts.Requirements), err, strings.TrimSpace(out.String()))
		}
	}
	pkgs, err := Installed(opts.Target)
	if err != nil {
		return nil, err
	}
	return pkgs, checkLocked(reqs, pkgs, filepath.Base(opts.Requirements))
}

// ConvertLock reads a uv.lock or a poetry.lock (with the pyproject.toml
// beside it) as the requirements file it stands for.
func ConvertLock(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if filepath.Base(path) == UVLockFile {
		return RequirementsFromUVLock(b)
	}
	pyproject, err := os.ReadFile(filepath.Join(filepath.Dir(path), "pyproject.toml"))
	if err != nil {
		return nil, &PoetryLockError{Msg: "the project's dependencies are in the pyproject.toml beside it: " + err.Error()}
	}
	return RequirementsFromPoetryLock(pyproject, b)
}

// checkLocked compares what pip installed with what the lock pins.
func checkLocked(reqs []Requirement, pkgs []Package, file string) error {
	pinned := map[string]string{}
	for _, r := range reqs {
		pinned[r.Name] = r.Version
	}
	var errs []error
	for _, p := range pkgs {
		v, ok := pinned[p.Name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%s %s was installed as a dependency but %s does not pin it: add %s==%s to the lock", p.Name, p.Version, file, p.Name, p.Version))
		case !sameVersion(v, p.Version):
			errs = append(errs, fmt.Errorf("%s: %s pins %s but pip installed %s", p.Name, file, v, p.Version))
		}
	}
	return errors.Join(errs...)
}

// sameVersion compares versions as written, ignoring a leading v and case.
func sameVersion(a, b string) bool {
	return strings.EqualFold(strings.TrimPrefix(a, "v"), strings.TrimPrefix(b, "v"))
}

// Installed lists the distributions in a --target directory, from their
// .dist-info metadata. (Compiled code is the image assembler's to check:
// build.Assemble refuses a distribution without a build for every
// platform.)
func Installed(dir string) ([]Package, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for _, e := range entries {
		if !e.IsDir() || !strings.HasSuffix(e.Name(), ".dist-info") {
			continue
		}
		info := filepath.Join(dir, e.Name())
		name, version, err := readMetadata(filepath.Join(info, "METADATA"))
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, Package{Name: NormalizeName(name), Version: version})
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// readMetadata reads Name and Version from a core metadata file (RFC 822
// headers, ended by the first blank line).
func readMetadata(path string) (name, version string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "name":
			name = strings.TrimSpace(v)
		case "version":
			version = strings.TrimSpace(v)
		}
	}
	if name == "" || version == "" {
		return "", "", fmt.Errorf("%s: no Name or Version", path)
	}
	return name, version, nil
}

// tailBuffer keeps the last 16 KiB written: enough of pip's or pytest's
// output to say what went wrong.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - 16<<10; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
