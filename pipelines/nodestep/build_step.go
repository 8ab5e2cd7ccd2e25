package nodestep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/node"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/runner"
)

// What the Node.js golden paths' build steps share: their keys start with
// the source and the base and end with the assembly, and they install and
// run scripts alike.

// ImageKey starts the key of a build step that assembles an image on
// base: the source, keyed as step (its name and version, "ts-build/v1"),
// then the digest base resolves to.
func ImageKey(ctx context.Context, key goservice.SourceKey, step string, base build.Base) (*runner.KeyBuilder, error) {
	k, err := key(ctx, step)
	if err != nil {
		return nil, err
	}
	digest, err := build.CacheKey(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("resolving base image %s: %w", base.Name(), err)
	}
	return k.String("base", digest), nil
}

// AssemblyKey adds to k what of a, besides its base, makes the image.
func AssemblyKey(k *runner.KeyBuilder, a build.Assembly) *runner.KeyBuilder {
	return k.JSON("assembly", struct {
		Platforms   []v1.Platform
		Created     string
		Annotations map[string]string
		Env         []string
		WorkingDir  string
	}{a.Platforms, a.Created.UTC().String(), a.Annotations, a.Env, a.WorkingDir})
}

// Installed installs p's dependencies unless its node_modules is there
// (the test step, which runs before the build, installed them), writing
// the package manager's output to out.
func Installed(ctx context.Context, p *node.Project, out *bytes.Buffer) error {
	if _, err := os.Stat(filepath.Join(p.Dir, "node_modules")); err == nil {
		return nil
	}
	if err := p.Install(ctx, out); err != nil {
		return fmt.Errorf("%w\n%s", err, Tail(out))
	}
	return nil
}

// Script runs p's package.json script name with out, reset first, for its
// output; the error names the script and ends with the output's tail.
func Script(ctx context.Context, p *node.Project, out *bytes.Buffer, name string) error {
	out.Reset()
	if err := p.Script(ctx, out, nil, name); err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, Tail(out))
	}
	return nil
}
