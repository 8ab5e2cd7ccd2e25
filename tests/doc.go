// Package tests holds paved's end-to-end tests: the paved binary against a
// real registry server (Debian's docker-registry, the CNCF distribution
// server) on loopback, so images really travel over HTTP.
package tests
