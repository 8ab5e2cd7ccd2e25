package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// heavy are the dependencies that make huge binaries and slow links; only
// the modules that need them (sbom, scan, sign, attest, lint) may import
// them. staticcheck and gosec (modules/lint) bring golang.org/x/tools'
// type-checking and SSA with a few hundred analyzers: they run in
// paved-worker too.
// The CDEvents SDK is among them for another reason: its package
// initialisation compiles every schema of the spec, about 300 ms and 33 MB
// on each start (paved version must start in under 50 ms); runner/events
// writes the events itself and only its tests use the SDK. Tekton's types
// (and knative under them) are for the YAML generator in tekton/ and its
// tests alone. Kustomize builds overlays in the GitOps bump's tests
// only: the bump edits the file itself.
var heavy = []string{"github.com/anchore/", "github.com/aquasecurity/", "github.com/sigstore/", "dagger.io/", "github.com/cdevents/", "github.com/santhosh-tekuri/jsonschema", "github.com/tektoncd/", "knative.dev/", "sigs.k8s.io/kustomize/", "honnef.co/go/tools", "github.com/securego/gosec"}

// TestLightPackagesStayLight fails when the paved binary, the runner, the
// build and test modules or the pipeline plumbing gain a heavy dependency:
// only paved-worker may link them.
func TestLightPackagesStayLight(t *testing.T) {
	for _, pkg := range []string{"../cmd/paved", "../runner", "../runner/events", "../pipelines", "../pipelines/goservice", "../pipelines/nodestep", "../pipelines/pythonbatch", "../pipelines/protocol", "../internal/commands", "../internal/hostci", "../internal/sarif", "../internal/worker", "../modules/build", "../modules/test", "../modules/python", "../modules/cronjob", "../modules/promote", "../modules/promote/gitops", "../modules/registry", "../dora/ingest", "../dora/store", "../dora/keys", "../dora/auth", "../dora/api", "../dora/prom", "../dora/dashboard", "../dora/server", "../dora/export"} {
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

// workerOptional are packages paved-worker must not link by default: the
// cloud KMS SDKs (built in with -tags paved_kms_*, or served by a sigstore
// KMS plugin) and cosign's key loaders for GitHub, GitLab and Kubernetes
// secrets, which paved does not offer.
var workerOptional = []string{
	"github.com/sigstore/sigstore/pkg/signature/kms/aws",
	"github.com/sigstore/sigstore/pkg/signature/kms/azure",
	"github.com/sigstore/sigstore/pkg/signature/kms/gcp",
	"github.com/sigstore/sigstore/pkg/signature/kms/hashivault",
	"github.com/aws/aws-sdk-go-v2/service/kms",
	"cloud.google.com/go/kms/",
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/",
	"github.com/hashicorp/vault/api",
	"github.com/sigstore/cosign/v3/pkg/signature",
	"github.com/sigstore/cosign/v3/pkg/cosign/git",
	"gitlab.com/gitlab-org/api/client-go",
}

// TestWorkerLinksNoCloudKMS checks that the default paved-worker leaves
// the KMS SDKs out, and that -tags paved_kms_all brings sigstore's
// providers back.
func TestWorkerLinksNoCloudKMS(t *testing.T) {
	deps := func(args ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %v: %v\n%s", args, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, dep := range deps("../cmd/paved-worker") {
		for _, o := range workerOptional {
			if dep == o || strings.HasPrefix(dep, o+"/") || strings.HasSuffix(o, "/") && strings.HasPrefix(dep, o) {
				t.Errorf("paved-worker links %s by default", dep)
			}
		}
	}
	tagged := strings.Join(deps("-tags", "paved_kms_all", "../cmd/paved-worker"), "\n") + "\n"
	for _, p := range workerOptional[:4] {
		if !strings.Contains(tagged, p+"\n") {
			t.Errorf("with -tags paved_kms_all, paved-worker does not link %s", p)
		}
	}
}
