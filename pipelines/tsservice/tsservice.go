// Package tsservice is the golden path for TypeScript (and JavaScript)
// services on Node.js: install from the lockfile, lint, test with the
// coverage gate, compile, and an image with the production dependencies
// in one layer and the application in another, on a pinned Node base;
// then the same SBOM, scan, publish, sign and attest steps as go-service.
// Importing it registers the path as "ts-service".
package tsservice

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/nodestep"
	"github.com/pavedhq/paved/runner"
)

func init() {
	pipelines.Register("ts-service", Path, true)
}

// HostBase is the base paved uses when none is set: its minimal base with
// this machine's node and the libraries it links. It builds and runs
// offline, for this machine's platform only; production pins a Node image
// (README: ts-service).
const HostBase = "paved"

// Path is the golden path: test (install, lint, tests with coverage) and
// then build (compile, production dependencies, image); SBOM and scan of
// the image; publish when all pass; sign and attest.
func Path(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	r, err := pipelines.Prepare(ctx, "ts-service", o)
	if err != nil {
		return nil, err
	}
	proj, err := node.Open(r.Context.Dir)
	if err != nil {
		return nil, &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
	}
	if proj.Manager.Berry {
		// Before the tool: installing a yarn paved cannot use is no help.
		return nil, &pipelines.ConfigError{Field: "--source", Msg: "yarn 2 or later (.yarnrc.yml) is not supported: ts-service ships the production dependencies as node_modules, which Plug'n'Play does not write, and the SBOM lists them from there; use npm, pnpm or yarn 1"}
	}
	if _, err := proj.Manager.Tool(); err != nil {
		return nil, &pipelines.ConfigError{Field: "environment", Msg: err.Error()}
	}
	if proj.Package.Main == "" {
		return nil, &pipelines.ConfigError{Field: "package.json: main", Msg: "name the file the service starts from, such as dist/main.js"}
	}
	if !proj.HasScript("test") {
		return nil, &pipelines.ConfigError{Field: "package.json: scripts.test", Msg: "ts-service runs the project's tests: define a test script (vitest run, jest, c8 node --test)"}
	}
	cfg := r.Config
	cov := *cfg.Test.Coverage
	if o.MinCoverage != nil {
		cov = *o.MinCoverage
		if cov < 0 || cov > 100 {
			return nil, &pipelines.ConfigError{Field: "--coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", cov)}
		}
	}
	a, err := assembly(ctx, r, o)
	if err != nil {
		return nil, err
	}
	key := nodestep.SourceKey(r.Context.Dir, nodestep.SkipSource)
	g := &runner.Graph{}
	g.Add(&nodestep.Test{Project: proj, MinCoverage: cov, Env: cfg.Test.Env, Source: key, KeyVersion: "ts-test/v1"})
	// Both steps use the project's node_modules: the build runs after the
	// tests, which install it.
	g.Add(&buildStep{proj: proj, assembly: a, hostNode: a.hostNode, key: key}, "test")
	var platforms []string
	for _, p := range a.Platforms {
		platforms = append(platforms, p.String())
	}
	if a.hostNode != "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no base set: the image carries this machine's node (%s) for %s only; pin a Node base image for production (base: in paved.yaml or --base)",
			a.hostNode, strings.Join(platforms, ", ")))
	}
	err = goservice.AddDelivery(r, o, g, goservice.Delivery{Key: key, Needs: []string{"test"}, Platforms: platforms, Main: proj.Package.Main})
	if err != nil {
		return nil, err
	}
	r.Graph = g
	r.Fill = goservice.Fill(r)
	return r, nil
}

// image is the assembly without its layers, which the build step adds.
type image struct {
	build.Assembly
	hostNode string // the host's node, laid into the image when no base is set
}

func assembly(ctx context.Context, r *pipelines.Run, o pipelines.Options) (image, error) {
	cfg := r.Config
	baseRef, baseField := cfg.Base, pipelines.ConfigFile+": base"
	if o.Base != "" {
		baseRef, baseField = o.Base, "--base"
	}
	var img image
	platforms, field := cfg.Platforms, pipelines.ConfigFile+": platforms"
	if len(o.Platforms) > 0 {
		platforms, field = o.Platforms, "--platform"
	}
	if baseRef == "" || baseRef == HostBase {
		bin, err := exec.LookPath("node")
		if err != nil {
			return img, &pipelines.ConfigError{Field: baseField, Msg: "no Node base is set and node is not on PATH: set base: to a Node image such as gcr.io/distroless/nodejs22-debian12@sha256:…"}
		}
		img.hostNode = bin
		host := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}.String()
		if len(o.Platforms) == 0 {
			platforms = []string{host}
		}
		for _, p := range platforms {
			if p != host {
				return img, &pipelines.ConfigError{Field: field, Msg: fmt.Sprintf("%s: without a base: the image carries this machine's node, which runs on %s only; set base: to a multi-platform Node image", p, host)}
			}
		}
	}
	ps, err := pipelines.ParsePlatforms(platforms)
	if err != nil {
		return img, &pipelines.ConfigError{Field: field, Msg: err.Error()}
	}
	base, err := build.ParseBase(baseRef)
	if err != nil {
		return img, &pipelines.ConfigError{Field: baseField, Msg: err.Error()}
	}
	ann := goservice.ImageAnnotations(r.Context, cfg.Service, goservice.CommitVersion(r.Context))
	img.Assembly = build.Assembly{Base: base, Platforms: ps, WorkingDir: AppDir, Env: []string{"NODE_ENV=production"},
		Created: r.Context.Changed, Annotations: ann}
	return img, nil
}
