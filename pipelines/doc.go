// Package pipelines holds paved's golden paths: graphs of module steps with
// defaults read from the service's paved.yaml. Front doors prepare a Run
// with a golden path's constructor and hand its graph to the runner.
package pipelines
