// Package node runs a Node.js project's own tools the way its lockfile
// says: install with npm, pnpm or yarn (whichever lockfile the project
// has), run its lint and build scripts, run its tests with coverage read
// from the istanbul summary that Vitest, Jest and c8 write, and install
// its production dependencies alone into a separate directory for an
// image, and list the production packages installed in node_modules (as
// Node resolves them, for npm, pnpm and yarn 1 alike). It prints nothing: output goes to the writer the caller passes.
package node
