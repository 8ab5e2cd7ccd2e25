// Package server assembles the collector's HTTP surfaces behind its
// tokens: ingest, the JSON API, Prometheus metrics and the dashboard. It is
// the one place that says which right each route needs.
package server
