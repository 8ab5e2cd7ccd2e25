package frontend

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/build/static"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/nodestep"
	"github.com/pavedhq/paved/runner"
)

func init() {
	pipelines.Register("frontend", Path, true)
}

// Where things are in the image.
const (
	AppDir  = "/app"
	SiteDir = AppDir + "/site" // the built files, served
	// Server is paved's static web server, the entrypoint.
	Server = AppDir + "/" + static.Binary
	// OutDir is the directory the project's build writes: Vite's default,
	// and where webpack, Parcel and Angular can be told to write.
	OutDir = "dist"
)

// Path is the golden path: test (install, lint, tests with coverage), then
// build (npm run build, precompression, the server compiled for each
// platform, the image); SBOM and scan of the image; publish when all
// pass; sign and attest.
func Path(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
	r, err := pipelines.Prepare(ctx, "frontend", o)
	if err != nil {
		return nil, err
	}
	proj, err := node.Open(r.Context.Dir)
	if err != nil {
		return nil, &pipelines.ConfigError{Field: "--source", Msg: err.Error()}
	}
	if proj.Manager.Berry {
		return nil, &pipelines.ConfigError{Field: "--source", Msg: "yarn 2 or later (.yarnrc.yml) is not supported: frontend lists the packages the bundle inlines from node_modules, which Plug'n'Play does not write; use npm, pnpm or yarn 1"}
	}
	if _, err := proj.Manager.Tool(); err != nil {
		return nil, &pipelines.ConfigError{Field: "environment", Msg: err.Error()}
	}
	if !proj.HasScript("test") {
		return nil, &pipelines.ConfigError{Field: "package.json: scripts.test", Msg: "frontend runs the project's tests: define a test script (vitest run, jest)"}
	}
	if !proj.HasScript("build") {
		return nil, &pipelines.ConfigError{Field: "package.json: scripts.build", Msg: "frontend serves what the build writes to " + OutDir + "/: define a build script (vite build)"}
	}
	if _, err := goVersion(); err != nil {
		return nil, &pipelines.ConfigError{Field: "environment", Msg: "the frontend image's web server is compiled with Go: " + err.Error()}
	}
	cfg := r.Config
	cov := *cfg.Test.Coverage
	if o.MinCoverage != nil {
		cov = *o.MinCoverage
		if cov < 0 || cov > 100 {
			return nil, &pipelines.ConfigError{Field: "--coverage", Msg: fmt.Sprintf("%v is not a percentage between 0 and 100", cov)}
		}
	}
	a, err := assembly(r, o)
	if err != nil {
		return nil, err
	}
	key := nodestep.SourceKey(r.Context.Dir, skipSource)
	g := &runner.Graph{}
	g.Add(&nodestep.Test{Project: proj, MinCoverage: cov, Env: cfg.Test.Env, Source: key, KeyVersion: "frontend-test/v1"})
	// Both steps use the project's node_modules: the build runs after the
	// tests, which install it.
	g.Add(&buildStep{proj: proj, assembly: a, key: key}, "test")
	var platforms []string
	for _, p := range a.Platforms {
		platforms = append(platforms, p.String())
	}
	if err := goservice.AddDelivery(r, o, g, goservice.Delivery{Key: key, Needs: []string{"test"}, Platforms: platforms,
		Main: OutDir + " served by " + static.Binary}); err != nil {
		return nil, err
	}
	r.Graph = g
	r.Fill = goservice.Fill(r)
	return r, nil
}

// assembly is the image without its layers, which the build step adds.
func assembly(r *pipelines.Run, o pipelines.Options) (build.Assembly, error) {
	cfg := r.Config
	baseRef, baseField := cfg.Base, pipelines.ConfigFile+": base"
	if o.Base != "" {
		baseRef, baseField = o.Base, "--base"
	}
	platforms, field := cfg.Platforms, pipelines.ConfigFile+": platforms"
	if len(o.Platforms) > 0 {
		platforms, field = o.Platforms, "--platform"
	}
	ps, err := pipelines.ParsePlatforms(platforms)
	if err != nil {
		return build.Assembly{}, &pipelines.ConfigError{Field: field, Msg: err.Error()}
	}
	base, err := build.ParseBase(baseRef)
	if err != nil {
		return build.Assembly{}, &pipelines.ConfigError{Field: baseField, Msg: err.Error()}
	}
	ann := goservice.ImageAnnotations(r.Context, cfg.Service, goservice.CommitVersion(r.Context))
	return build.Assembly{Base: base, Platforms: ps, WorkingDir: AppDir,
		Entrypoint: []string{Server}, Env: []string{"PAVED_STATIC_ROOT=" + SiteDir},
		Created: r.Context.Changed, Annotations: ann}, nil
}

// goVersion names the Go in the build step's key: another Go compiles
// another server. (Node's version is in every step's key: see
// nodestep.SourceKey.)
var goVersion = sync.OnceValues(func() (string, error) { return toolVersion("go", "env", "GOVERSION") })

func toolVersion(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}
