// Package frontend is the golden path for single-page applications:
// install with npm ci, test with the project's runner and its coverage
// gate, build with npm run build, then an image on paved's minimal base
// that holds paved's static web server (package static, compiled for each
// platform) and the built files, precompressed. Importing it registers
// the path as "frontend".
package frontend
