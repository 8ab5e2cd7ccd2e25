package attest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pavedhq/paved/internal/testtools/testkeys"
	"github.com/pavedhq/paved/internal/testtools/testregistry"
	"github.com/pavedhq/paved/modules/sign"
)

func newRegistry(t *testing.T) string { return testregistry.New(t) }

// pushIndex pushes a random two-platform index and returns its reference.
func pushIndex(t *testing.T, host string) name.Digest {
	t.Helper()
	idx, err := random.Index(256, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(host + "/team/svc@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref
}

type keyPair = testkeys.Pair

// newKeyPair generates a cosign key pair encrypted with password.
func newKeyPair(t *testing.T, password string) keyPair { return testkeys.New(t, password) }

func loadKey(t *testing.T, kp keyPair) *sign.Signer {
	t.Helper()
	s, err := sign.LoadKey(context.Background(), kp.Priv, kp.Password)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func subjectOf(t *testing.T, ref name.Digest) []Subject {
	t.Helper()
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		t.Fatal(err)
	}
	return []Subject{{Name: ref.Context().String(), Digest: h}}
}

// sampleProvenance is what the go-service golden path records.
func sampleProvenance() ProvenanceInput {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return ProvenanceInput{
		BuilderID:      "https://github.com/pavedhq/paved/builders/local@v1",
		BuilderVersion: map[string]string{"paved": "v0.1.0"},
		BuildType:      "https://github.com/pavedhq/paved/buildtypes/go-service@v1",
		External: map[string]any{
			"source":    "https://github.com/example/svc",
			"ref":       "refs/heads/main",
			"pipeline":  "go-service",
			"platforms": []string{"linux/amd64", "linux/arm64"},
		},
		Internal: map[string]any{"cgo": false},
		Dependencies: []Dependency{
			{URI: "git+https://github.com/example/svc@refs/heads/main", Digest: map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}},
			{Name: "base", URI: "pkg:oci/paved-minimal", Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}},
			{URI: "pkg:golang/go@1.26.8"},
		},
		InvocationID: "run-1",
		StartedOn:    start,
		FinishedOn:   start.Add(90 * time.Second),
	}
}

// spdxDoc is a small valid SPDX 2.3 JSON document.
const spdxDoc = `{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "team/svc",
  "documentNamespace": "https://example.test/spdx/svc-1",
  "creationInfo": {"created": "2026-01-02T03:04:05Z", "creators": ["Tool: paved-test"]},
  "packages": [{"name": "example.test/svc", "SPDXID": "SPDXRef-Package-svc", "versionInfo": "v1.0.0",
    "downloadLocation": "NOASSERTION", "filesAnalyzed": false}],
  "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-svc"}]
}`

// cyclonedxDoc is a small valid CycloneDX 1.5 JSON document.
const cyclonedxDoc = `{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
  "metadata": {"timestamp": "2026-01-02T03:04:05Z", "component": {"type": "container", "name": "team/svc"}},
  "components": [{"type": "library", "name": "example.test/svc", "version": "v1.0.0", "purl": "pkg:golang/example.test/svc@v1.0.0"}]}`
