// Package pythonbatch is the golden path for Python batch jobs: the
// dependencies installed from a lock into a layer of their own, pytest
// with coverage and its gate, an image on a pinned Python base that runs
// the job as nonroot, the supply-chain steps go-service has (SBOM, scan,
// publish, sign, attest), and a Kubernetes CronJob for the published
// image. Importing it registers the path as "python-batch".
package pythonbatch
