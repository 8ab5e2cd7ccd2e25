// Package readme keeps the Go example in the repository's README.md true:
// its test compiles the README's program and runs it on the example
// service, so the example cannot name an API that does not exist.
package readme
