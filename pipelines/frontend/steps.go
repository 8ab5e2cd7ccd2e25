package frontend

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/build/precompress"
	"github.com/pavedhq/paved/modules/build/static"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/nodestep"
	"github.com/pavedhq/paved/runner"
)

// skipSource leaves out what nodestep.SkipSource does and the build's
// output.
func skipSource(rel string, d fs.DirEntry) bool {
	return d.IsDir() && rel == OutDir || nodestep.SkipSource(rel, d)
}

// buildStep runs the project's build, compiles the server and assembles
// the image.
type buildStep struct {
	proj     *node.Project
	assembly build.Assembly
	key      goservice.SourceKey
}

var _ runner.Keyed = (*buildStep)(nil)

func (s *buildStep) Name() string { return "build" }

func (s *buildStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := nodestep.ImageKey(ctx, s.key, "frontend-build/v1", s.assembly.Base)
	if err != nil {
		return "", err
	}
	gv, err := goVersion()
	if err != nil {
		return "", err
	}
	k.String("go", gv)
	src, err := static.Source()
	if err != nil {
		return "", err
	}
	k.JSON("server", src)
	return nodestep.AssemblyKey(k, s.assembly).Sum(), nil
}

func (s *buildStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	p := s.proj
	var out bytes.Buffer
	if err := nodestep.Installed(ctx, p, &out); err != nil {
		return nil, err
	}
	dist := filepath.Join(p.Dir, OutDir)
	// Files an earlier build left must not reach the image.
	if err := os.RemoveAll(dist); err != nil {
		return nil, err
	}
	if err := nodestep.Script(ctx, p, &out, "build"); err != nil {
		return nil, err
	}
	if !regular(filepath.Join(dist, static.Index)) {
		return nil, fmt.Errorf("the build wrote no %s/%s: frontend serves %s/ (Vite's default; set your bundler's output directory to it)", OutDir, static.Index, OutDir)
	}
	tmp, err := os.MkdirTemp("", "paved-frontend-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	site := filepath.Join(tmp, "site")
	if err := os.CopyFS(site, os.DirFS(dist)); err != nil {
		return nil, fmt.Errorf("copying %s: %w", dist, err)
	}
	if _, err := precompress.Dir(ctx, site); err != nil {
		return nil, err
	}

	a := s.assembly
	if a.Base == nil {
		a.Base = build.Minimal()
	}
	servers, err := serverLayers(ctx, filepath.Join(tmp, "server"), a.Platforms)
	if err != nil {
		return nil, err
	}
	bundled, err := bundledLayer(p)
	if err != nil {
		return nil, err
	}
	// What changes least goes first: the server with paved, the package
	// manifests with the dependencies, the site with every commit.
	a.Layers = append(servers, bundled, build.Layer{Name: "site", Trees: []build.Tree{{Src: site, Dest: SiteDir}}})
	idx, err := build.Assemble(ctx, a)
	if err != nil {
		return nil, err
	}
	return goservice.ImageResult(ctx, in.OutDir, idx, a.Base, a.Platforms)
}

func regular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// serverLayers compiles paved's static server from its embedded source for
// each platform (the standard library only: nothing to download) and
// returns one layer per platform.
func serverLayers(ctx context.Context, dir string, platforms []v1.Platform) ([]build.Layer, error) {
	src := filepath.Join(dir, "src")
	if err := static.WriteSource(src); err != nil {
		return nil, err
	}
	// The module stands alone: no workspace, no proxy, no toolchain switch.
	env := []string{"GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local"}
	var layers []build.Layer
	for i, p := range platforms {
		out := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
		bin, err := build.Compile(ctx, build.Options{Dir: src, Main: static.MainPackage, Name: static.Binary, Env: env}, p, out)
		if err != nil {
			return nil, fmt.Errorf("compiling the static server: %w", err)
		}
		layers = append(layers, build.Layer{Name: static.Binary + " " + p.String(), Platform: &platforms[i],
			Files: []build.File{{Path: Server, Src: bin, Mode: 0o755}}})
	}
	return layers, nil
}

// bundledLayer holds the manifests of what the bundle inlines (see
// BundledDir): the application's package.json, its lock file, and the
// package.json of each production dependency as installed.
func bundledLayer(p *node.Project) (build.Layer, error) {
	l := build.Layer{Name: "bundled packages", Files: []build.File{
		{Path: BundledDir + "/package.json", Src: filepath.Join(p.Dir, "package.json")},
	}}
	if p.Manager.Name != "npm" {
		return installedLayer(p, l)
	}
	lockPath := filepath.Join(p.Dir, p.Manager.Lockfile)
	data, err := os.ReadFile(lockPath)
	if err != nil {
		return l, err
	}
	l.Files = append(l.Files, build.File{Path: path.Join(BundledDir, p.Manager.Lockfile), Data: data})
	pkgs, err := productionPackages(data)
	if err != nil {
		return l, err
	}
	var missing []string
	for _, pkg := range pkgs {
		src := filepath.Join(p.Dir, filepath.FromSlash(pkg.Dir), "package.json")
		if !regular(src) {
			if !pkg.Optional {
				missing = append(missing, pkg.Dir)
			}
			continue
		}
		l.Files = append(l.Files, build.File{Path: path.Join(BundledDir, pkg.Dir, "package.json"), Src: src})
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return l, fmt.Errorf("%s lists production packages that are not installed: %s (run npm ci)", p.Manager.Lockfile, strings.Join(missing, ", "))
	}
	return l, nil
}

// installedLayer adds, for pnpm and yarn 1, the package.json of each
// production package found in node_modules by Node's own resolution (see
// node.Project.ProductionPackages), at its real path: pnpm's
// node_modules/.pnpm/NAME@VERSION/node_modules/NAME, where Syft and
// Trivy find it as in a nested npm tree. The lockfile is not read: yarn's
// does not say where a package is installed, and what Node resolves is
// what the bundler inlined.
func installedLayer(p *node.Project, l build.Layer) (build.Layer, error) {
	if p.Manager.Berry {
		return l, fmt.Errorf("yarn 2 or later (.yarnrc.yml) is not supported: frontend lists the bundled packages from node_modules (npm, pnpm or yarn 1)")
	}
	pkgs, err := p.ProductionPackages()
	if err != nil {
		return l, err
	}
	for _, pkg := range pkgs {
		l.Files = append(l.Files, build.File{Path: path.Join(BundledDir, pkg.Dir, "package.json"), Src: filepath.Join(p.Dir, filepath.FromSlash(pkg.Dir), "package.json")})
	}
	return l, nil
}
