package node

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// command runs the manager in dir, its output to w. CI=true keeps the
// tools from prompting or drawing progress bars.
func (p *Project) command(ctx context.Context, dir string, w io.Writer, env []string, args ...string) error {
	tool, err := p.Manager.Tool()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CI=true", "NO_COLOR=1", "FORCE_COLOR=0"), env...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s in %s: %w", p.Manager.Name, strings.Join(args, " "), dir, err)
	}
	return nil
}

// Install installs every dependency the lockfile lists (npm ci, pnpm
// install --frozen-lockfile, yarn install --frozen-lockfile) into the
// project's node_modules. A lockfile that disagrees with package.json is
// an error, not an update.
func (p *Project) Install(ctx context.Context, w io.Writer) error {
	return p.command(ctx, p.Dir, w, nil, p.Manager.installArgs(false)...)
}

// HasScript reports whether package.json defines the script.
func (p *Project) HasScript(name string) bool {
	_, ok := p.Package.Scripts[name]
	return ok
}

// Script runs a package.json script with extra arguments.
func (p *Project) Script(ctx context.Context, w io.Writer, env []string, name string, extra ...string) error {
	if !p.HasScript(name) {
		return fmt.Errorf("package.json has no %q script", name)
	}
	return p.command(ctx, p.Dir, w, env, p.Manager.scriptArgs(name, extra...)...)
}

// InstallProduction installs the production dependencies alone into
// dest/node_modules: package.json and the lockfile are copied to dest
// (created if missing) and installed there, so the project's own
// node_modules, which holds the dev tools, is left as it is. The
// packages come from the manager's cache when the project was installed
// before, so this works offline after Install.
func (p *Project) InstallProduction(ctx context.Context, w io.Writer, dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	files := []string{"package.json", p.Manager.Lockfile}
	for _, extra := range []string{".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml"} {
		if _, err := os.Stat(filepath.Join(p.Dir, extra)); err == nil {
			files = append(files, extra)
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dest, f), b, 0o644); err != nil {
			return err
		}
	}
	args := p.Manager.installArgs(true)
	if p.Manager.Name == "npm" {
		// The project's install filled npm's cache: use it without
		// asking the registry whether anything changed.
		args = append(args, "--prefer-offline")
	}
	return p.command(ctx, dest, w, nil, args...)
}
