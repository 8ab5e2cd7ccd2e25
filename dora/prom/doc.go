// Package prom serves the four keys in Prometheus' text exposition format:
// gauges labelled by team, service and environment over a trailing window,
// so Grafana charts them like any other scrape target.
package prom
