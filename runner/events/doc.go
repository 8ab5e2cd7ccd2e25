// Package events builds the CDEvents paved emits and delivers them without
// losing any.
//
// Every event is a CloudEvent 1.0 whose data is a CDEvent (spec 0.5.1): the
// runner emits pipelinerun queued/started/finished, taskrun started/finished
// per step and artifact packaged/published/signed; paved promote emits
// service.deployed; paved dora incident emits incident.detected/resolved.
// The package builds the CDEvent JSON itself rather than link the CDEvents
// SDK, whose package initialisation compiles every JSON schema of the spec
// (about 300 ms and 33 MB on each start of the binary); the tests check
// every event against the SDK's schemas.
//
// # Delivery
//
// An Emitter appends each event, once per sink, to a Spool (a directory of
// fsync'd files in paved's state directory) before it tries to send it, and
// removes the entry only when the sink acknowledges it (a 2xx for HTTP, a
// synced write for a file). What is not delivered stays for the next run or
// for paved events flush, with a bounded exponential back-off per entry
// that is waived as soon as the sink acknowledges anything. Concurrent
// processes share a spool: each entry is locked (flock) while it is sent.
// Event ids are stable, so redelivery after a crash is harmless.
//
// # Wire contract (what the collector reads)
//
// Every event carries the CDEvent's customData as JSON
// (customDataContentType application/json) with at least
// {"team": "...", "service": "..."} from paved.yaml. The CloudEvent's
// source is paved/<team>/<service> (paved/<service> with no team); its id is
// stable per logical event: <run id>/<step or artifact digest>/<type> for
// runs, <digest>/<environment>/service.deployed for promotions,
// <incident id>/<type> for incidents.
//
//   - service.deployed: subject id = the service; content environment.id =
//     the environment (production), artifactId = the image's purl
//     pkg:oci/<name>@sha256:<hex>?repository_url=<registry>/<path>;
//     customData adds digest, repository (source repository URL), commit,
//     previousDigest, commits [{sha, author, time}] (every commit after the
//     previous deployment's up to this one when a checkout lets paved list
//     them, else the one commit) and deployedAt (RFC 3339).
//   - incident.detected / incident.resolved: subject id = the incident id;
//     content environment.id, service.id = the service, artifactId (the
//     purl, optional).
package events
