// Package store keeps the DORA collector's events in SQL, one
// implementation for SQLite (the embedded default, pure Go, WAL mode) and
// PostgreSQL (a postgres:// DSN), and answers dora.Metrics from them.
//
// Append stores a request's events in one transaction: the raw CloudEvent
// in events, keyed by (source, id) so redelivery is skipped, and the facts
// the keys read (deployments, the first deployment of each commit, incidents)
// in tables of their own, derived once at ingest so that a query reads
// only what it needs. SQLite commits with synchronous=FULL, so an
// acknowledged event survives a crash of the process or of the machine.
//
// The schema is versioned in code (migrations); Open applies what a
// database lacks.
//
//	st, err := store.Open(ctx, "dora.db")                  // SQLite file
//	st, err := store.Open(ctx, "postgres://u@host/dora")   // PostgreSQL
//	defer st.Close()
//	mux.Handle("POST /v1/events", ingest.Handler(st, ingest.Options{}))
//	var m dora.Metrics = st
package store
