// Paved's Dagger front door: typed functions that run paved's golden paths
// and pipeline modules (test, build, sbom, scan, sign, attest, verify,
// promote) from `dagger call`, or from another Dagger module that installs
// this one.
//
// The module stays light: it does not link Syft, Trivy or cosign. Every
// function runs the paved CLI inside a container of paved's own image, with
// the Go module and build caches and paved's step cache kept in Dagger
// cache volumes, so a function gives the same results (and the same image
// digests) as `paved` run on a laptop or in CI for the same source and
// settings.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"dagger/paved/internal/dagger"
)

// DefaultImage is the paved image the functions run in when the caller
// names none. No release of paved's image has been published yet: until
// one is, pass --image with an image built by `paved build --source .` at
// paved's repository root, or --image-archive with its OCI archive.
const DefaultImage = "ghcr.io/pavedhq/paved:v0.1.0"

// Where things live in paved's container.
const (
	srcDir    = "/src"
	cacheDir  = "/cache"
	secretDir = "/run/secrets/paved"
	nonroot   = "65532" // paved's image runs as nonroot
)

// Paved runs paved's golden paths and steps inside paved's own image.
type Paved struct {
	// +private
	Image string
	// +private
	ImageArchive *dagger.File
	// +private
	Goproxy string
}

func New(
	// paved's image (by tag or digest). No release is published yet: pass an
	// image built with `paved build --source .` from paved's repository.
	// +optional
	// +default="ghcr.io/pavedhq/paved:v0.1.0"
	image string,
	// paved's image as an OCI archive (a tar of an OCI image layout), used
	// instead of image: for engines that cannot pull it.
	// +optional
	imageArchive *dagger.File,
	// GOPROXY for the service's Go modules (default: Go's own,
	// https://proxy.golang.org,direct).
	// +optional
	goproxy string,
) *Paved {
	return &Paved{Image: image, ImageArchive: imageArchive, Goproxy: goproxy}
}

// Container returns paved's image, ready to run paved: the caches mounted
// and the source (when given) at /src as the working directory. Compose
// your own steps on it with paved's CLI (its entrypoint).
func (m *Paved) Container(
	// the service's source (a Go module with an optional paved.yaml)
	// +optional
	source *dagger.Directory,
) *dagger.Container {
	var ctr *dagger.Container
	if m.ImageArchive != nil {
		ctr = dag.Container().Import(m.ImageArchive)
	} else {
		ctr = dag.Container().From(m.Image)
	}
	own := dagger.ContainerWithMountedCacheOpts{Owner: nonroot}
	ctr = ctr.
		WithMountedCache(cacheDir+"/paved", dag.CacheVolume("paved-steps"), own).
		WithMountedCache(cacheDir+"/go-mod", dag.CacheVolume("paved-go-mod"), own).
		WithMountedCache(cacheDir+"/go-build", dag.CacheVolume("paved-go-build"), own).
		WithEnvVariable("GOMODCACHE", cacheDir+"/go-mod").
		WithEnvVariable("GOCACHE", cacheDir+"/go-build").
		WithEnvVariable("XDG_CACHE_HOME", cacheDir)
	if m.Goproxy != "" {
		ctr = ctr.WithEnvVariable("GOPROXY", m.Goproxy)
	}
	if source != nil {
		ctr = ctr.
			WithDirectory(srcDir, source, dagger.ContainerWithDirectoryOpts{Owner: nonroot}).
			WithWorkdir(srcDir)
	}
	return ctr
}

// paved runs the paved CLI with args in ctr.
func paved(ctr *dagger.Container, args ...string) *dagger.Container {
	args = append(args, "--cache-dir", cacheDir+"/paved")
	return ctr.WithExec(args, dagger.ContainerWithExecOpts{UseEntrypoint: true})
}

// lastLine is the reference paved prints last on stdout.
func lastLine(ctx context.Context, ctr *dagger.Container) (string, error) {
	out, err := ctr.Stdout(ctx)
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// Test runs the service's tests as the golden path does: go vet, go test
// with the coverage gate of paved.yaml, a JUnit report. A failing test or a
// coverage under the gate fails the call, naming the test.
func (m *Paved) Test(
	ctx context.Context,
	// the service's source (a Go module with an optional paved.yaml)
	source *dagger.Directory,
	// minimum statement coverage in percent (default from paved.yaml, else 80)
	// +optional
	// +default=-1
	coverage float64,
) (*TestResult, error) {
	args := []string{"test", "--source", srcDir}
	if coverage >= 0 {
		args = append(args, "--coverage", strconv.FormatFloat(coverage, 'f', -1, 64))
	}
	ran := paved(m.Container(source), args...)
	out := ran.Directory(srcDir + "/.paved")
	rep, err := readReport(ctx, out)
	if err != nil {
		return nil, err
	}
	if rep.Test == nil {
		return nil, fmt.Errorf("paved test wrote no test results")
	}
	return &TestResult{
		Junit:        ran.File(rep.Test.JUnit),
		Coverage:     ran.File(rep.Test.CoverProfile),
		Report:       out.File("report.json"),
		Passed:       rep.Test.Passed,
		Failed:       rep.Test.Failed,
		Skipped:      rep.Test.Skipped,
		CoverageRate: rep.Test.Coverage,
	}, nil
}

// TestResult is what the test step found.
type TestResult struct {
	// JUnit XML report of the tests
	Junit *dagger.File
	// Go coverage profile
	Coverage *dagger.File
	// paved's run report (JSON, apiVersion paved.dev/v1alpha1)
	Report *dagger.File
	// tests that passed
	Passed int
	// tests that failed
	Failed int
	// tests skipped
	Skipped int
	// statement coverage, percent
	CoverageRate float64
}

// Build builds the service's reproducible multi-platform image on paved's
// base (no tests, SBOM, scan or signing) into an OCI image layout.
func (m *Paved) Build(
	// the service's source (a Go module with an optional paved.yaml)
	source *dagger.Directory,
	// platforms to build, os/arch (default from paved.yaml, else linux/amd64 and linux/arm64)
	// +optional
	platforms []string,
	// base image: "paved" (paved's minimal base) or an image reference (default from paved.yaml)
	// +optional
	base string,
	// the source's commit, for the image's labels and timestamps when the source has no .git
	// +optional
	commit string,
	// the source's repository URL, for the image's labels
	// +optional
	repo string,
) *BuildResult {
	return &BuildResult{Paved: m, Source: source, Platforms: platforms, Base: base, Commit: commit, Repo: repo}
}

// BuildResult is a built image: an OCI layout, a registry push, or a
// container to run or open a terminal in.
type BuildResult struct {
	// +private
	Paved *Paved
	// +private
	Source *dagger.Directory
	// +private
	Platforms []string
	// +private
	Base string
	// +private
	Commit string
	// +private
	Repo string
}

func (b *BuildResult) run(image string, registry *dagger.Service) *dagger.Container {
	args := []string{"build", "--source", srcDir, "--image", image}
	if len(b.Platforms) > 0 {
		args = append(args, "--platform", strings.Join(b.Platforms, ","))
	}
	if b.Base != "" {
		args = append(args, "--base", b.Base)
	}
	ctr := withContext(b.Paved.Container(b.Source), b.Commit, b.Repo)
	return paved(withRegistry(ctr, registry, image), args...)
}

// Layout is the image as an OCI image layout directory (index.json, blobs/).
func (b *BuildResult) Layout() *dagger.Directory {
	return b.run("oci:/tmp/out/image", nil).Directory("/tmp/out/image")
}

// Ref is the image's reference in its OCI layout, oci:DIR@sha256:…
func (b *BuildResult) Ref(ctx context.Context) (string, error) {
	return lastLine(ctx, b.run("oci:/tmp/out/image", nil))
}

// Publish pushes the image to a registry repository and returns its
// reference by digest, REPO@sha256:…
func (b *BuildResult) Publish(
	ctx context.Context,
	// registry repository, host[:port]/path
	address string,
	// a registry the engine cannot reach by itself, such as one on your
	// machine: tcp://localhost:5000 (bound under address's host name)
	// +optional
	registry *dagger.Service,
) (string, error) {
	return lastLine(ctx, b.run(address, registry))
}

// Container is the image for one platform, to run as a service or open a
// terminal in.
func (b *BuildResult) Container(
	ctx context.Context,
	// the platform to take (default: the engine's)
	// +optional
	platform dagger.Platform,
) (*dagger.Container, error) {
	archive, err := tarball(ctx, b.Layout())
	if err != nil {
		return nil, err
	}
	return dag.Container(dagger.ContainerOpts{Platform: platform}).Import(archive), nil
}

// Sbom writes the SPDX 2.3 and CycloneDX SBOMs of a published image (and its
// source), as the golden path's sbom step does.
func (m *Paved) Sbom(
	// the image, REPO@sha256:…
	ref string,
	// the service's source the image was built from
	source *dagger.Directory,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
) *dagger.Directory {
	ctr := withRegistry(m.Container(source), registry, ref)
	return paved(ctr, "sbom", ref, "--source", srcDir).Directory(srcDir + "/.paved/sbom")
}

// Scan scans a published image with Trivy and its source with govulncheck
// and applies the gate of paved.yaml. A gate that fails fails the call.
func (m *Paved) Scan(
	ctx context.Context,
	// the image, REPO@sha256:…
	ref string,
	// the service's source the image was built from
	source *dagger.Directory,
	// severities that fail the gate, such as CRITICAL,HIGH (default from paved.yaml, else CRITICAL)
	// +optional
	severity []string,
	// air-gapped vulnerability databases (Trivy cache layout, with govulndb/); default: download
	// +optional
	vulnDb *dagger.Directory,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
) (*ScanResult, error) {
	if len(severity) > 0 {
		var err error
		if source, err = withSeverities(ctx, source, severity); err != nil {
			return nil, err
		}
	}
	args := []string{"scan", ref, "--source", srcDir}
	ctr := withRegistry(m.Container(source), registry, ref)
	ctr, args = withVulnDB(ctr, vulnDb, args)
	ran := paved(ctr, args...)
	out := ran.Directory(srcDir + "/.paved")
	rep, err := readReport(ctx, out)
	if err != nil {
		return nil, err
	}
	if rep.Scan == nil {
		return nil, fmt.Errorf("paved scan wrote no scan results")
	}
	return &ScanResult{
		Sarif:      ran.File(rep.Scan.SARIF),
		JSON:       ran.File(rep.Scan.JSON),
		Report:     out.File("report.json"),
		Status:     rep.Scan.Status,
		Gate:       rep.Scan.Gate,
		Passed:     rep.Scan.Passed,
		Critical:   rep.Scan.Counts["CRITICAL"],
		High:       rep.Scan.Counts["HIGH"],
		Medium:     rep.Scan.Counts["MEDIUM"],
		Low:        rep.Scan.Counts["LOW"],
		Violations: rep.Scan.Violations,
	}, nil
}

// ScanResult is the vulnerability scan's findings and gate.
type ScanResult struct {
	// findings as SARIF 2.1.0
	Sarif *dagger.File
	// findings as JSON
	JSON *dagger.File
	// paved's run report (JSON)
	Report *dagger.File
	// scanned, partially scanned or not scanned
	Status string
	// the gate's rule
	Gate string
	// whether the gate passed
	Passed bool
	// CRITICAL findings
	Critical int
	// HIGH findings
	High int
	// MEDIUM findings
	Medium int
	// LOW findings
	Low int
	// findings that fail the gate
	Violations []string
}

// Sign signs a published image (its index and every platform manifest) with
// a cosign key, in cosign's classic layout.
func (m *Paved) Sign(
	ctx context.Context,
	// the image, REPO@sha256:…
	ref string,
	// cosign private key (the key file's contents)
	key *dagger.Secret,
	// the key's password
	// +optional
	password *dagger.Secret,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
) (string, error) {
	ctr := withKey(withRegistry(m.Container(nil), registry, ref), key, password)
	return lastLine(ctx, paved(ctr, "sign", ref, "--key", secretDir+"/cosign.key"))
}

// Attest attaches signed SLSA provenance and SBOM attestations to a
// published image.
func (m *Paved) Attest(
	ctx context.Context,
	// the image, REPO@sha256:…
	ref string,
	// the service's source the image was built from
	source *dagger.Directory,
	// cosign private key (the key file's contents)
	key *dagger.Secret,
	// the key's password
	// +optional
	password *dagger.Secret,
	// the source's commit, when the source has no .git
	// +optional
	commit string,
	// the source's repository URL
	// +optional
	repo string,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
) (string, error) {
	ctr := withContext(withKey(withRegistry(m.Container(source), registry, ref), key, password), commit, repo)
	return lastLine(ctx, paved(ctr, "attest", ref, "--source", srcDir, "--key", secretDir+"/cosign.key"))
}

// Verify checks a published image's signature, and with types its
// attestations, against a cosign public key. It fails when they do not
// verify.
func (m *Paved) Verify(
	ctx context.Context,
	// the image, REPO@sha256:…
	ref string,
	// cosign public key
	key *dagger.File,
	// attestation types to check as well: slsaprovenance1, spdxjson, cyclonedx
	// +optional
	types []string,
	// a registry the engine cannot reach by itself (tcp://localhost:5000)
	// +optional
	registry *dagger.Service,
) (string, error) {
	ctr := withRegistry(m.Container(nil), registry, ref).WithMountedFile(secretDir+"/cosign.pub", key)
	args := []string{"verify", ref, "--key", secretDir + "/cosign.pub"}
	for _, t := range types {
		args = append(args, "--type", t)
	}
	return ctr.WithExec(args, dagger.ContainerWithExecOpts{UseEntrypoint: true}).Stdout(ctx)
}

// Promote checks an image against a promotion policy, then copies it by
// digest with its signatures and attestations to another repository, and
// returns the destination reference. A rule that fails refuses, naming it.
func (m *Paved) Promote(
	ctx context.Context,
	// the image to promote, REPO@sha256:…
	from string,
	// destination repository
	to string,
	// promotion policy (YAML; default: paved's built-in policy)
	// +optional
	policy *dagger.File,
	// cosign public keys the policy accepts
	// +optional
	key []*dagger.File,
	// tags to set at the destination
	// +optional
	tag []string,
	// air-gapped vulnerability databases for the policy's scan
	// +optional
	vulnDb *dagger.Directory,
	// a registry the engine cannot reach by itself (tcp://localhost:5000),
	// bound under the host names of from and to
	// +optional
	registry *dagger.Service,
) (string, error) {
	ctr := withRegistry(withRegistry(m.Container(nil), registry, from), registry, to)
	args := []string{"promote", "--from", from, "--to", to}
	if policy != nil {
		ctr = ctr.WithMountedFile(secretDir+"/policy.yaml", policy)
		args = append(args, "--policy", secretDir+"/policy.yaml")
	}
	for i, k := range key {
		p := fmt.Sprintf("%s/key-%d.pub", secretDir, i)
		ctr = ctr.WithMountedFile(p, k)
		args = append(args, "--key", p)
	}
	for _, t := range tag {
		args = append(args, "--tag", t)
	}
	ctr, args = withVulnDB(ctr, vulnDb, args)
	return lastLine(ctx, ctr.WithExec(args, dagger.ContainerWithExecOpts{UseEntrypoint: true}))
}

// GoService is the go-service golden path for a service: test, build, SBOM,
// scan with its gate, publish, then sign and attest.
func (m *Paved) GoService(
	// the service's source (a Go module with an optional paved.yaml)
	source *dagger.Directory,
	// platforms to build (default from paved.yaml, else linux/amd64 and linux/arm64)
	// +optional
	platforms []string,
	// base image: "paved" or an image reference (default from paved.yaml)
	// +optional
	base string,
	// air-gapped vulnerability databases (Trivy cache layout, with govulndb/); default: download
	// +optional
	vulnDb *dagger.Directory,
	// the source's commit, for labels, provenance and timestamps when the source has no .git
	// +optional
	commit string,
	// the source's repository URL
	// +optional
	repo string,
) *GoService {
	return &GoService{Paved: m, Source: source, Platforms: platforms, Base: base, VulnDb: vulnDb, Commit: commit, Repo: repo}
}

// GoService runs the go-service golden path.
type GoService struct {
	// +private
	Paved *Paved
	// +private
	Source *dagger.Directory
	// +private
	Platforms []string
	// +private
	Base string
	// +private
	VulnDb *dagger.Directory
	// +private
	Commit string
	// +private
	Repo string
}

func (g *GoService) run(image string, registry *dagger.Service, key, password *dagger.Secret) *dagger.Container {
	args := []string{"run", "go-service", "--source", srcDir}
	if image != "" {
		args = append(args, "--image", image)
	}
	if len(g.Platforms) > 0 {
		args = append(args, "--platform", strings.Join(g.Platforms, ","))
	}
	if g.Base != "" {
		args = append(args, "--base", g.Base)
	}
	ctr := withContext(g.Paved.Container(g.Source), g.Commit, g.Repo)
	ctr, args = withVulnDB(ctr, g.VulnDb, args)
	if key != nil {
		ctr = withKey(ctr, key, password)
		args = append(args, "--key", secretDir+"/cosign.key")
	}
	return paved(withRegistry(ctr, registry, image), args...)
}

// Publish runs the whole golden path and publishes the image to a registry
// repository (signed and attested when a key is given); it returns the
// reference by digest, REPO@sha256:… Nothing is published unless the tests
// and the scan gate pass.
func (g *GoService) Publish(
	ctx context.Context,
	// registry repository, host[:port]/path
	address string,
	// cosign private key to sign and attest with (the key file's contents)
	// +optional
	key *dagger.Secret,
	// the key's password
	// +optional
	password *dagger.Secret,
	// a registry the engine cannot reach by itself, such as one on your
	// machine: tcp://localhost:5000 (bound under address's host name)
	// +optional
	registry *dagger.Service,
) (string, error) {
	return lastLine(ctx, g.run(address, registry, key, password))
}

// Report runs the golden path into an OCI layout (no registry) and returns
// paved's run report (JSON): every step, the test and scan results, the
// image's digest and platforms.
func (g *GoService) Report() *dagger.File {
	return g.run("", nil, nil, nil).File(srcDir + "/.paved/report.json")
}

// Outputs runs the golden path into an OCI layout (no registry) and returns
// everything it wrote: the image layout, test reports, SBOMs, scan results
// and the run report.
func (g *GoService) Outputs() *dagger.Directory {
	return g.run("", nil, nil, nil).Directory(srcDir + "/.paved")
}

// withContext gives paved the commit and repository git would, for a
// source without .git (no git in paved's image).
func withContext(ctr *dagger.Container, commit, repo string) *dagger.Container {
	if commit != "" {
		ctr = ctr.WithEnvVariable("PAVED_COMMIT", commit)
	}
	if repo != "" {
		ctr = ctr.WithEnvVariable("PAVED_REPO", repo)
	}
	return ctr
}

// withKey mounts a cosign key and its password as secrets, never as plain
// files or variables of the container's image.
func withKey(ctr *dagger.Container, key, password *dagger.Secret) *dagger.Container {
	ctr = ctr.WithMountedSecret(secretDir+"/cosign.key", key, dagger.ContainerWithMountedSecretOpts{Owner: nonroot})
	if password != nil {
		ctr = ctr.WithSecretVariable("COSIGN_PASSWORD", password)
	}
	return ctr
}

func withVulnDB(ctr *dagger.Container, db *dagger.Directory, args []string) (*dagger.Container, []string) {
	if db == nil {
		return ctr, args
	}
	return ctr.WithMountedDirectory(cacheDir+"/vulndb", db), append(args, "--vuln-db", cacheDir+"/vulndb")
}

// withRegistry binds a registry service under the host name of ref, so
// paved reaches it by the name the reference gives (a registry on the
// caller's machine at localhost:5000 stays localhost:5000).
func withRegistry(ctr *dagger.Container, registry *dagger.Service, ref string) *dagger.Container {
	if registry == nil || ref == "" || strings.HasPrefix(ref, "oci:") {
		return ctr
	}
	host, _, _ := strings.Cut(ref, "/")
	host, _, _ = strings.Cut(host, ":")
	return ctr.WithServiceBinding(host, registry)
}

// report is the part of paved's run report the functions read.
type report struct {
	Test *struct {
		Coverage     float64 `json:"coverage"`
		Passed       int     `json:"passed"`
		Failed       int     `json:"failed"`
		Skipped      int     `json:"skipped"`
		JUnit        string  `json:"junit"`
		CoverProfile string  `json:"coverProfile"`
	} `json:"test"`
	Scan *struct {
		Status     string         `json:"status"`
		Counts     map[string]int `json:"counts"`
		Gate       string         `json:"gate"`
		Passed     bool           `json:"passed"`
		Violations []string       `json:"violations"`
		JSON       string         `json:"json"`
		SARIF      string         `json:"sarif"`
	} `json:"scan"`
}

func readReport(ctx context.Context, dir *dagger.Directory) (*report, error) {
	b, err := dir.File("report.json").Contents(ctx)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal([]byte(b), &r); err != nil {
		return nil, fmt.Errorf("paved's run report: %w", err)
	}
	return &r, nil
}
