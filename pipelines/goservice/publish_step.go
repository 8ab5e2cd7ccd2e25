package goservice

import (
	"context"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// PublishValue is the publish step's result.
type PublishValue = protocol.PublishValue

// publishStep pushes the built index to its target. Its cached result is
// only reused while the target still holds the digest.
type publishStep struct {
	target build.Target
	tags   []string
	from   string // the step whose image to publish
}

var (
	_ runner.Keyed       = (*publishStep)(nil)
	_ runner.Revalidator = (*publishStep)(nil)
)

func (s *publishStep) Name() string { return "publish" }

func (s *publishStep) Key(_ context.Context, in runner.Inputs) (string, error) {
	var img ImageValue
	if err := in.Deps[s.from].Decode(&img); err != nil {
		return "", err
	}
	return runner.NewKey().String("step", "publish/v1").String("digest", img.Digest).
		String("target", s.target.String()).JSON("tags", s.tags).Sum(), nil
}

func (s *publishStep) Revalidate(ctx context.Context, r *runner.Result) (bool, error) {
	var v PublishValue
	if err := r.Decode(&v); err != nil {
		return false, nil
	}
	h, err := v1.NewHash(v.Digest)
	if err != nil {
		return false, nil
	}
	return build.Published(ctx, s.target, h)
}

func (s *publishStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	dep := in.Deps[s.from]
	idx, err := build.ReadLayout(filepath.Join(dep.Dir, ImageLayoutDir))
	if err != nil {
		return nil, err
	}
	ref, err := build.Publish(ctx, idx, s.target, s.tags)
	if err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	return runner.NewResult(PublishValue{Ref: ref, Digest: d.String(), Tags: s.tags}, ref)
}
