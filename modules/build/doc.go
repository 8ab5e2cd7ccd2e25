// Package build turns a Go service into a reproducible multi-platform OCI
// image index and publishes it, without a container daemon.
//
// Go cross-compiles the service once per platform, puts each binary in a
// deterministic layer at /app/<name> on top of a Base, and assembles an OCI
// image index whose digest depends only on the source, the toolchain, the
// base and the Options: every timestamp comes from Options.Created.
//
// FindMain picks the main package of the usual layouts (the root, or the
// one under cmd/). Files under kodata/ beside a main package and
// Options.Files go into one layer of static files (StaticFiles);
// RenderLdflags fills GoReleaser-style ldflags templates; RuntimeConfig
// sets the env, ports, labels, user and working directory the image runs
// with.
//
// Minimal is paved's own base, assembled in code (CA bundle, a nonroot user,
// time zone data); Remote and ParseBase name any registry image or index
// instead. Publish writes an index to a registry repository or an OCI image
// layout directory, and WriteLayout/ReadLayout keep one on disk between steps.
package build
