package goservice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

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
	// ldflags are paved.yaml's templates; opts.Ldflags holds them rendered.
	ldflags []string
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
	if err := s.imageKey(k); err != nil {
		return "", err
	}
	return k.Sum(), nil
}

// imageKey adds what goes into the image besides the binaries: the
// static files (paths, modes, contents), the ldflags templates and what
// they rendered to, and the runtime config. Rendered ldflags enter as a
// hash only: {{.Env.NAME}} may have put a secret in them.
func (s *buildStep) imageKey(k *runner.KeyBuilder) error {
	if len(s.opts.Files) > 0 {
		k.JSON("files", s.opts.Files)
	}
	files, err := build.StaticFiles(s.opts)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		root, err := os.OpenRoot(s.opts.Dir)
		if err != nil {
			return err
		}
		defer root.Close()
		for _, f := range files {
			sum, err := rootFileSHA256(root, f.Source)
			if err != nil {
				return fmt.Errorf("hashing static file %s: %w", f.Source, err)
			}
			k.String("static:"+f.Path, fmt.Sprintf("%s %#o %s", f.Source, uint32(f.Mode), sum))
		}
	}
	if len(s.ldflags) > 0 || len(s.opts.Ldflags) > 0 {
		k.JSON("ldflags", s.ldflags)
		rendered := sha256.Sum256([]byte(strings.Join(s.opts.Ldflags, "\x00")))
		k.String("ldflags:rendered", hex.EncodeToString(rendered[:]))
	}
	if c := s.opts.Config; len(c.Env) > 0 || len(c.Ports) > 0 || len(c.Labels) > 0 || c.User != "" || c.WorkingDir != "" {
		k.JSON("config", c)
	}
	return nil
}

func rootFileSHA256(root *os.Root, name string) (string, error) {
	f, err := root.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (s *buildStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	idx, err := build.Go(ctx, s.opts)
	if err != nil {
		return nil, err
	}
	return ImageResult(ctx, in.OutDir, idx, s.opts.Base, s.opts.Platforms)
}
