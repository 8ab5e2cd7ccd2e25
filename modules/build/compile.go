package build

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Compile builds one program for one platform into dir as Go builds every
// image's binaries (static, -trimpath, no VCS stamp) and returns its path:
// for a golden path that lays a Go program into an image it assembles
// itself, such as the frontend path's web server. opts.Main (and Name)
// name the program; Binaries, Platforms and Base are unused.
func Compile(ctx context.Context, opts Options, p v1.Platform, dir string) (string, error) {
	opts.Binaries, opts.Entrypoint, opts.Platforms = nil, "", []v1.Platform{p}
	o, err := opts.withDefaults(ctx)
	if err != nil {
		return "", err
	}
	return compile(ctx, o, o.Binaries[0], p, dir)
}
