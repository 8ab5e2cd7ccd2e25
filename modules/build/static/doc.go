// Package static is the web server of the frontend golden path's images:
// it serves a directory of built files (a single-page application) with
// the caching rules bundlers expect, precompressed gzip and brotli
// variants, and a health endpoint. It uses only the standard library,
// because paved compiles it from its embedded source (Source) into each
// frontend image, on the machine that runs paved, with no module download.
package static
