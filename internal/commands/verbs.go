package commands

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/pavedhq/paved/pipelines"
)

// newVerb is a command that runs one golden-path step on a published
// image: REF by digest, the same flags, cache, report and exit codes as
// the step has in paved run.
func newVerb(version, use, short, example, path string, flags func(*RunOptions, *cobra.Command)) *cobra.Command {
	var o RunOptions
	c := &cobra.Command{
		Use:     use + " REF",
		Short:   short,
		Example: example,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := name.NewDigest(args[0]); err != nil {
				return &UsageError{Err: fmt.Errorf("REF %q: want a published image by digest, REPO@sha256:…: %w", args[0], err)}
			}
			p := pipelines.Lookup(path)
			if p == nil {
				return fmt.Errorf("this paved binary was built without the %s path", path)
			}
			ref := args[0]
			return execute(c, version, &o, func(ctx context.Context, po pipelines.Options) (*pipelines.Run, error) {
				po.Ref = ref
				return p(ctx, po)
			})
		},
	}
	c.Flags().StringVar(&o.Source, "source", ".", "service directory (the Go module the image was built from)")
	flags(&o, c)
	o.addRunFlags(c.Flags())
	return c
}
