package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the dependencies that make huge binaries and slow links; only
// the modules that need them (sbom, scan, sign, attest) may import them.
// The CDEvents SDK is among them for another reason: its package
// initialisation compiles every schema of the spec, about 300 ms and 33 MB
// on each start (paved version must start in under 50 ms); runner/events
// writes the events itself and only its tests use the SDK. Tekton's types
// (and knative under them) are for the YAML generator in tekton/ and its
// tests alone.
var heavy = []string{"github.com/anchore/", "github.com/aquasecurity/", "github.com/sigstore/", "dagger.io/", "github.com/cdevents/", "github.com/santhosh-tekuri/jsonschema", "github.com/tektoncd/", "knative.dev/"}

// TestLightPackagesStayLight fails when the paved binary, the runner, the
// build and test modules or the pipeline plumbing gain a heavy dependency:
// only paved-worker may link them.
func TestLightPackagesStayLight(t *testing.T) {
	for _, pkg := range []string{"../cmd/paved", "../runner", "../runner/events", "../pipelines", "../pipelines/goservice", "../pipelines/pythonbatch", "../pipelines/protocol", "../internal/commands", "../internal/hostci", "../internal/worker", "../modules/build", "../modules/test", "../modules/python", "../modules/cronjob", "../modules/promote", "../modules/promote/gitops", "../modules/registry", "../dora/ingest", "../dora/store", "../dora/keys", "../dora/auth", "../dora/api", "../dora/prom", "../dora/dashboard", "../dora/server", "../dora/export"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, h := range heavy {
				if strings.HasPrefix(dep, h) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
