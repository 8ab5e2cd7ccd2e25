// Package auth guards the collector's HTTP surfaces with bearer tokens read
// from a file: each token names the teams its caller may see, the rights it
// has (read the keys, ingest events) and its rate limit.
//
// The file holds SHA-256 hashes, never the tokens, so reading it (or a
// backup of it) gives no access. Handlers wrapped with Set.Require find the
// caller's Claims in the request's context.
package auth
