// Package api is the collector's JSON API — GET /v1/metrics and GET
// /v1/teams — and a Client that reads it back as a dora.Metrics, so
// `paved dora metrics` reads a remote collector and a local database the
// same way.
//
// Every answer is limited to the teams the caller's token may see (see
// package auth): asking for another team is 403, and lists leave it out.
package api
