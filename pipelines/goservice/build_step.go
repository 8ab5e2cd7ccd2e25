package goservice

import (
	"context"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// ImageValue is the build step's result: an index kept as an OCI layout in
// the step's directory.
type ImageValue = protocol.ImageValue

// ImageLayoutDir is where the build step keeps the index.
const ImageLayoutDir = protocol.ImageLayoutDir

// buildStep compiles the service and assembles its image index.
type buildStep struct {
	opts build.Options
}

var _ runner.Keyed = (*buildStep)(nil)

func (s *buildStep) Name() string { return "build" }

func (s *buildStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := sourceKey(ctx, "build/v1", s.opts.Dir)
	if err != nil {
		return "", err
	}
	base, err := build.CacheKey(ctx, s.opts.Base)
	if err != nil {
		return "", fmt.Errorf("resolving base image %s: %w", s.opts.Base.Name(), err)
	}
	k.String("base", base)
	// The toolchain enters by name: the checksum database pins each
	// release's bytes.
	k.JSON("options", struct {
		Main, Name, Version   string
		Binaries              []build.Binary `json:",omitempty"`
		Entrypoint, Toolchain string         `json:",omitempty"`
		Platforms             []v1.Platform
		Created               string
		Annotations           map[string]string
		Env                   []string
	}{s.opts.Main, s.opts.Name, s.opts.Version, s.opts.Binaries, s.opts.Entrypoint, s.opts.Toolchain, s.opts.Platforms, s.opts.Created.UTC().String(), s.opts.Annotations, s.opts.Env})
	return k.Sum(), nil
}

func (s *buildStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	idx, err := build.Go(ctx, s.opts)
	if err != nil {
		return nil, err
	}
	if err := build.WriteLayout(filepath.Join(in.OutDir, ImageLayoutDir), idx); err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	base, err := s.opts.Base.Digest(ctx)
	if err != nil {
		return nil, err
	}
	v := ImageValue{Digest: d.String(), Base: s.opts.Base.Name(), BaseDigest: base.String()}
	for _, p := range s.opts.Platforms {
		v.Platforms = append(v.Platforms, p.String())
	}
	return runner.NewResult(v, fmt.Sprintf("%s for %d platforms", d, len(v.Platforms)))
}
