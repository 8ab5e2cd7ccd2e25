// Package keys computes the four DORA keys from a history of production
// deployments, the changes they carried and incidents, as the collector's
// store loads it. It is pure: the same history and query give the same
// Report, which is what the golden tests check.
//
// Definitions (../../README.md, "DORA keys"):
//
//   - Deployment frequency: deployments (service deployed, upgraded or
//     rolled back) to the environment in the period, and per day.
//   - Lead time for changes: for each commit, commit time to the first
//     deployment to the environment that carried it. A commit carried again
//     by a later deployment (a redeploy, a rollback and roll forward) is not
//     counted again, so squash merges and batched deploys count every
//     commit once. It falls in the period of that first deployment.
//   - Change failure rate: deployments in the period with at least one
//     incident attributed, divided by the deployments in the period; it
//     cannot exceed 1. An incident is attributed to the deployment of the
//     artifact digest it names (the latest such deployment of the service
//     at or before its detection, else the first after), and only when it
//     names none, to the deployment live in its service and environment
//     when it was detected. An incident naming a digest that was never
//     deployed is not attributed by time instead: it named one.
//   - Time to restore: detected to resolved, over incidents resolved in the
//     period. An incident is resolved by an incident.resolved event or by
//     a deployment whose customData.resolves lists its id, whichever is
//     first. An incident without a team takes the team of the deployment
//     it is attributed to, else of its service's latest deployment.
//
// Medians of an even count are the mean of the two middle values; the 90th
// percentile is the nearest-rank one (the ceil(0.9n)-th smallest).
//
// The performance bands come from bands.json, a copy of one published
// report's table kept as data.
package keys
