// Package ingest receives CloudEvents 1.0 over HTTP for the DORA collector:
// POST /v1/events in binary mode (ce-* headers, the body is the data), in
// structured mode (application/cloudevents+json) and as batches
// (application/cloudevents-batch+json, a JSON array of structured events).
//
// Handler validates a whole request before anything is stored: a request
// with one bad event is refused whole with a 4xx JSON error naming the
// event's index and the field ({"error": ..., "field": ..., "index": ...}),
// and the database is left as it was. A body over Options.MaxBytes gets
// 413. Valid events go to an Appender in one call, which must make them
// durable (committed) before it returns; only then does the client get its
// 200, with how many were new and how many were duplicates of (source, id)
// pairs already stored. Redelivery is therefore harmless.
//
// Any valid CloudEvent is accepted and stored, whatever its type, so events
// from other tools are kept. Only the CDEvents types the four keys read are
// interpreted (see Interpret): service deployed, upgraded and rolledback,
// incident detected, reported and resolved. For those, the content the keys
// need (environment, service, times) is checked too, and an event missing
// it is refused with 400 naming the field, rather than stored and silently
// ignored by the keys.
//
// The collector mounts it beside its read surfaces:
//
//	st, err := store.Open(ctx, dsn)
//	mux.Handle("POST /v1/events", ingest.Handler(st, ingest.Options{}))
package ingest
