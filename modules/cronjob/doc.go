// Package cronjob renders the Kubernetes CronJob (batch/v1) that runs a
// batch job's image on a schedule, for a GitOps repository: the image by
// digest, a nonroot and locked-down pod, the schedule checked as the
// Kubernetes API server checks it.
package cronjob
