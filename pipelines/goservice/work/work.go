// Package work runs the supply-chain steps — SBOM, scan, sign, attest — and
// policy evaluation in-process. It links Syft, Trivy and cosign: paved's
// CLI reaches it through paved-worker, and Go programs that link the heavy
// modules themselves pass Executor{} in pipelines.Options.
package work

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/modules/promote/verify"
	"github.com/pavedhq/paved/pipelines/protocol"
)

// Executor is the in-process protocol.Executor.
type Executor struct{}

var _ protocol.Executor = Executor{}

var identityOnce = sync.OnceValues(buildIdentity)

// Identity implements protocol.Executor: this program's build of paved and
// of the libraries that make the SBOMs, scans and signatures.
func (Executor) Identity(context.Context) (string, error) { return identityOnce() }

func buildIdentity() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", fmt.Errorf("this program has no build information to key the cache with")
	}
	var id strings.Builder
	id.WriteString(bi.GoVersion + " " + bi.Main.Path + "@" + bi.Main.Version)
	devel := bi.Main.Version == "(devel)" || bi.Main.Version == ""
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/pavedhq/paved":
			devel = d.Version == "(devel)" || d.Replace != nil
			id.WriteString(" " + d.Path + "@" + d.Version)
		case "github.com/anchore/syft", "github.com/aquasecurity/trivy", "github.com/sigstore/cosign/v3", "golang.org/x/vuln",
			"honnef.co/go/tools", "github.com/securego/gosec/v2", "golang.org/x/tools":
			id.WriteString(" " + d.Path + "@" + d.Version)
		}
	}
	if devel {
		// A development build has no version of its own: name this binary.
		if self, err := os.Executable(); err == nil {
			if info, err := os.Stat(self); err == nil {
				fmt.Fprintf(&id, " %d %d", info.Size(), info.ModTime().UnixNano())
			}
		}
	}
	return id.String(), nil
}

// Evaluate implements protocol.Executor.
func (Executor) Evaluate(ctx context.Context, req protocol.EvaluateRequest) (*promote.Evaluation, error) {
	ref, err := name.NewDigest(req.Ref)
	if err != nil {
		return nil, err
	}
	ev := &verify.Evaluator{VulnDB: req.VulnDB}
	return ev.Evaluate(ctx, ref, req.Policy)
}
