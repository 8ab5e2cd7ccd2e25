package tsservice

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/nodestep"
	"github.com/pavedhq/paved/runner"
)

// AppDir is where the service lives in the image: package.json, the
// compiled application and node_modules with the production dependencies.
const AppDir = "/app"

// buildStep compiles the project, installs its production dependencies
// apart and assembles the image.
type buildStep struct {
	proj     *node.Project
	assembly image
	hostNode string
	key      goservice.SourceKey
}

var _ runner.Keyed = (*buildStep)(nil)

func (s *buildStep) Name() string { return "build" }

func (s *buildStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := nodestep.ImageKey(ctx, s.key, "ts-build/v1", s.assembly.Base)
	if err != nil {
		return "", err
	}
	if s.hostNode != "" {
		// The node laid into the image: its bytes, not only its version.
		if err := k.Dir("hostNode", filepath.Dir(s.hostNode), func(rel string, d fs.DirEntry) bool {
			return d.IsDir() || filepath.Base(rel) != filepath.Base(s.hostNode)
		}); err != nil {
			return "", err
		}
	}
	return nodestep.AssemblyKey(k, s.assembly.Assembly).Sum(), nil
}

func (s *buildStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	p := s.proj
	var out bytes.Buffer
	if err := nodestep.Installed(ctx, p, &out); err != nil {
		return nil, err
	}
	if p.HasScript("build") {
		if err := nodestep.Script(ctx, p, &out, "build"); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(p.Dir, filepath.FromSlash(p.Package.Main))); err != nil {
		return nil, fmt.Errorf("package.json: main: %s is not there after the build: %w", p.Package.Main, err)
	}
	tmp, err := os.MkdirTemp("", "paved-ts-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	prod := filepath.Join(tmp, "production")
	out.Reset()
	if err := p.InstallProduction(ctx, &out, prod); err != nil {
		return nil, fmt.Errorf("installing production dependencies: %w\n%s", err, nodestep.Tail(&out))
	}
	modules := filepath.Join(prod, "node_modules")
	if err := os.MkdirAll(modules, 0o755); err != nil {
		return nil, err
	}

	a := s.assembly.Assembly
	nodeBin := "node"
	if s.hostNode != "" {
		runtimeLayer, err := build.HostFiles(ctx, "node runtime", s.hostNode)
		if err != nil {
			return nil, err
		}
		a.Layers = append(a.Layers, runtimeLayer)
		nodeBin = s.hostNode
	} else if nodeBin, err = baseNode(ctx, a); err != nil {
		return nil, err
	}
	app, err := appLayer(p)
	if err != nil {
		return nil, err
	}
	a.Layers = append(a.Layers,
		build.Layer{Name: "dependencies", Trees: []build.Tree{{Src: modules, Dest: AppDir + "/node_modules", Skip: installState}}},
		app)
	a.Entrypoint = []string{nodeBin, path.Join(AppDir, p.Package.Main)}
	idx, err := build.Assemble(ctx, a)
	if err != nil {
		return nil, err
	}
	return goservice.ImageResult(ctx, in.OutDir, idx, a.Base, a.Platforms)
}

// installState leaves out pnpm's node_modules/.modules.yaml: the time of
// the install and the store's path on this machine, which would make
// every image differ and which nothing reads at run time. (pnpm's links
// into node_modules/.pnpm are relative and stay links in the layer.)
func installState(rel string, d fs.DirEntry) bool {
	return rel == ".modules.yaml" && !d.IsDir()
}

// baseNode is the node a base image runs: its entrypoint when that is a
// node (distroless: /nodejs/bin/node), else node on the image's PATH.
func baseNode(ctx context.Context, a build.Assembly) (string, error) {
	img, err := a.Base.Image(ctx, a.Platforms[0])
	if err != nil {
		return "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("base %s: %w", a.Base.Name(), err)
	}
	if ep := cf.Config.Entrypoint; len(ep) == 1 && strings.HasPrefix(path.Base(ep[0]), "node") {
		return ep[0], nil
	}
	return "node", nil
}

// appLayer holds package.json (node reads "type" from it) and what
// package.json's files lists, else the directory of main, else the whole
// project but for installed and generated directories and tests.
func appLayer(p *node.Project) (build.Layer, error) {
	l := build.Layer{Name: "application", Files: []build.File{{Path: AppDir + "/package.json", Src: filepath.Join(p.Dir, "package.json")}}}
	paths := p.Package.Files
	if len(paths) == 0 {
		if top, _, found := strings.Cut(path.Clean(p.Package.Main), "/"); found {
			paths = []string{top}
		}
	}
	if len(paths) == 0 {
		l.Trees = append(l.Trees, build.Tree{Src: p.Dir, Dest: AppDir, Skip: func(rel string, d fs.DirEntry) bool {
			base := path.Base(rel)
			return nodestep.SkipSource(rel, d) || rel == "package.json" || strings.HasPrefix(base, ".") ||
				(d.IsDir() && (base == "test" || base == "tests" || base == "__tests__"))
		}})
		return l, nil
	}
	for _, rel := range paths {
		src := filepath.Join(p.Dir, filepath.FromSlash(rel))
		info, err := os.Stat(src)
		if err != nil {
			return l, fmt.Errorf("package.json: files: %w", err)
		}
		dest := path.Join(AppDir, path.Clean(rel))
		if info.IsDir() {
			l.Trees = append(l.Trees, build.Tree{Src: src, Dest: dest})
		} else if dest != AppDir+"/package.json" {
			l.Files = append(l.Files, build.File{Path: dest, Src: src})
		}
	}
	return l, nil
}
