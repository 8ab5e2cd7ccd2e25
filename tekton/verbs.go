package tekton

import "github.com/pavedhq/paved/internal/hostci"

// Version is the Tasks' and Pipeline's version: their directory in the
// catalog layout and their app.kubernetes.io/version label. Bump it when a
// change to the YAML is not backward compatible for people who run it.
const Version = "0.1"

// MinPipelinesVersion is the oldest Tekton Pipelines the YAML runs on:
// tekton.dev/v1 with optional workspaces, array params, when expressions
// and the git resolver enabled by default.
const MinPipelinesVersion = "0.50.0"

// Platforms are those paved's own image is built for.
const Platforms = "linux/amd64,linux/arm64"

// DefaultPavedImage is the default of every Task's PAVED_IMAGE param. It is
// a tag that is never published, so a Task whose PAVED_IMAGE is not set to
// a release pinned by digest fails to pull instead of running whatever a
// mutable tag points at.
const DefaultPavedImage = "ghcr.io/pavedhq/paved:set-PAVED_IMAGE-to-a-release-pinned-by-digest"

// The results paved writes when it runs in a TaskRun (IMAGE_URL and
// IMAGE_DIGEST are the names Tekton Chains reads an image from): the
// Tasks declare the names the writer uses, so they cannot drift apart.
const (
	ResultImageURL    = hostci.ResultImageURL
	ResultImageDigest = hostci.ResultImageDigest
	ResultReport      = hostci.ResultReport
)

// Task-only params: everything else a Task takes is a flag of its command.
const (
	ParamPavedImage    = "PAVED_IMAGE"
	ParamExtraArgs     = "EXTRA_ARGS"
	ParamSigningSecret = "SIGNING_SECRET"
	ParamGitHubSecret  = "GITHUB_TOKEN_SECRET"
	// CDEvents sinks and their token, for the commands that emit events.
	ParamEvents       = "EVENTS"
	ParamEventsSecret = "EVENTS_SECRET"
	// The source's context, for an image without git (paved's has none).
	ParamCommit          = "COMMIT"
	ParamRepoURL         = "REPO_URL"
	ParamSourceDateEpoch = "SOURCE_DATE_EPOCH"
)

// PavedPath is paved in its own image (the entrypoint; /app is not on PATH).
const PavedPath = "/app/paved"

// Workspaces the Tasks declare; all but source are optional.
const (
	WorkspaceSource       = "source"
	WorkspaceCache        = "cache"
	WorkspaceVulnDB       = "vuln-db"
	WorkspaceSigningKeys  = "signing-keys"
	WorkspaceDockerConfig = "dockerconfig"
	WorkspaceGitOps       = "gitops"
)

var workspaceDescriptions = map[string]string{
	WorkspaceSource:       "The service's source (a git checkout); paved runs in it and writes .paved/ there.",
	WorkspaceCache:        "paved's step cache (--cache-dir); bind a persistent volume to reuse step results between runs.",
	WorkspaceVulnDB:       "An offline vulnerability database (--vuln-db: the Trivy cache layout, with govulndb/); without it the scanners download theirs.",
	WorkspaceSigningKeys:  "A cosign key pair as `cosign generate-key-pair k8s://NAMESPACE/NAME` stores it: the key is /workspace/signing-keys/cosign.key, the public key /workspace/signing-keys/cosign.pub.",
	WorkspaceDockerConfig: "A docker config.json with the registries' credentials (DOCKER_CONFIG).",
	WorkspaceGitOps:       "A git checkout of the GitOps repository to bump (--gitops).",
}

// kind says how a flag reaches paved in a Task.
type kind int

const (
	// param: a string param of the flag's name, description and default,
	// passed as --flag=$(params.flag).
	param kind = iota
	// workspace: an optional workspace whose path is the flag's value; an
	// unbound workspace's path is "", which every such flag reads as its
	// default.
	workspace
	// extra: not a param; reachable through EXTRA_ARGS. why says why.
	extra
)

// flagMapping is one flag's place in a Task.
type flagMapping struct {
	kind      kind
	workspace string
	// note is appended to a param's description (the flag's usage).
	note string
	// why a flag is only reachable through EXTRA_ARGS.
	why string
}

func p() flagMapping                  { return flagMapping{kind: param} }
func pNote(note string) flagMapping   { return flagMapping{kind: param, note: note} }
func ws(name string) flagMapping      { return flagMapping{kind: workspace, workspace: name} }
func viaExtra(why string) flagMapping { return flagMapping{kind: extra, why: why} }

// positional is a command's argument, given as a param after "--".
type positional struct {
	name, description string
	// def is the default; "" makes the param required.
	def string
}

// verb is one Task: a paved command and how each of its flags maps.
type verb struct {
	// command is the paved subcommand.
	command     string
	displayName string
	description string
	categories  string
	tags        string
	args        []positional
	// flags classifies every flag of the command: a flag the table does
	// not name fails the tests, so a new flag is a decision, not drift.
	flags map[string]flagMapping
	// registry: the Task talks to registries (DOCKER_CONFIG).
	registry bool
	// signs: COSIGN_PASSWORD comes from the SIGNING_SECRET secret.
	signs bool
	// keys: the Task reads keys from the signing-keys workspace.
	keys bool
	// github: GITHUB_TOKEN comes from the GITHUB_TOKEN_SECRET secret.
	github bool
	// context: the Task reads the source, so it takes its commit,
	// repository and time from params when the checkout's git cannot say.
	context bool
	// image: paved writes IMAGE_URL and IMAGE_DIGEST.
	image bool
	// report: paved writes REPORT (runs of the runner only).
	report bool
}

// Why a run flag is left to EXTRA_ARGS.
const (
	whyOnlyWhenGiven = "paved reads it only when given, over paved.yaml or the environment"
	whyReport        = "the report is also .paved/report.json in the source workspace and, in brief, the REPORT result"
	whyJSON          = "it only changes what the step log shows"
	whyRepeatable    = "repeatable: Tekton cannot repeat a flag per array item"
	whyBuildNoSupply = "paved build neither scans nor signs"
	whyPodFile       = "a file the pod would lose: give a path in a workspace"
	whyEvents        = "repeatable: the EVENTS param takes sinks comma-separated"
)

const inSource = " (in the source workspace)"

const keyNote = "; with the signing-keys workspace: /workspace/signing-keys/cosign.key (the password comes from the SIGNING_SECRET Secret's cosign.password)"

// verbs are the Tasks, one row each.
var verbs = []verb{
	{
		command:     "test",
		displayName: "paved test",
		description: "Tests a Go service with paved: go vet, go test with the coverage gate from the service's paved.yaml, and a JUnit report under .paved/ in the source workspace.",
		categories:  "Testing",
		tags:        "test,go,paved",
		flags: map[string]flagMapping{
			"source": pNote(inSource), "coverage": viaExtra(whyOnlyWhenGiven),
			"lint": viaExtra(whyOnlyWhenGiven), "sast": viaExtra(whyOnlyWhenGiven),
			"cache-dir": ws(WorkspaceCache), "no-cache": p(), "cache-max-size": viaExtra(whyOnlyWhenGiven),
			"report": viaExtra(whyReport), "json": viaExtra(whyJSON), "events": viaExtra(whyEvents),
		},
		context: true, report: true,
	},
	{
		command:     "build",
		displayName: "paved build",
		description: "Builds a Go service into a reproducible multi-arch OCI image with paved and publishes it. IMAGE_URL and IMAGE_DIGEST name the image, so Tekton Chains signs and attests it.",
		categories:  "Image Build",
		tags:        "image-build,go,paved",
		flags: map[string]flagMapping{
			"source": pNote(inSource), "image": p(), "platform": p(), "base": p(), "tag": p(),
			"vuln-db": viaExtra(whyBuildNoSupply), "scan-required": viaExtra(whyBuildNoSupply),
			"key": viaExtra(whyBuildNoSupply), "keyless": viaExtra(whyBuildNoSupply),
			"fulcio-url": viaExtra(whyBuildNoSupply), "rekor-url": viaExtra(whyBuildNoSupply), "trusted-root": viaExtra(whyBuildNoSupply),
			"cache-dir": ws(WorkspaceCache), "no-cache": p(), "cache-max-size": viaExtra(whyOnlyWhenGiven),
			"report": viaExtra(whyReport), "json": viaExtra(whyJSON), "events": viaExtra(whyEvents),
		},
		registry: true, context: true, image: true, report: true,
	},
	{
		command:     "run",
		displayName: "paved run",
		description: "Runs a paved golden path (go-service: test, build, SBOMs, scan, publish, sign, attest) on the service in the source workspace. The image is published only when the tests and the scan gate pass. IMAGE_URL and IMAGE_DIGEST name it, so Tekton Chains attests it too.",
		categories:  "Continuous Integration",
		tags:        "build,test,image-build,security,go,paved",
		args: []positional{
			{name: "PIPELINE", description: "The golden path to run.", def: "go-service"},
		},
		flags: map[string]flagMapping{
			"source": pNote(inSource), "image": p(), "platform": p(), "base": p(), "tag": p(),
			"vuln-db": ws(WorkspaceVulnDB), "scan-required": viaExtra(whyOnlyWhenGiven),
			"key": pNote(keyNote), "keyless": p(), "fulcio-url": p(), "rekor-url": p(), "trusted-root": p(),
			"coverage": viaExtra(whyOnlyWhenGiven), "lint": viaExtra(whyOnlyWhenGiven), "sast": viaExtra(whyOnlyWhenGiven),
			"cache-dir": ws(WorkspaceCache), "no-cache": p(), "cache-max-size": viaExtra(whyOnlyWhenGiven),
			"report": viaExtra(whyReport), "json": viaExtra(whyJSON), "events": viaExtra(whyEvents),
		},
		registry: true, signs: true, context: true, image: true, report: true,
	},
	{
		command:     "sbom",
		displayName: "paved sbom",
		description: "Writes SPDX and CycloneDX SBOMs of a published image (every platform) and of its source with paved, under .paved/ in the source workspace.",
		categories:  "Security",
		tags:        "sbom,security,supply-chain,paved",
		args:        []positional{imageRef},
		flags:       onImage(nil),
		registry:    true, context: true, report: true,
	},
	{
		command:     "scan",
		displayName: "paved scan",
		description: "Scans a published image (Trivy) and its source (govulncheck) with paved, with the gate of the service's paved.yaml: the TaskRun fails when the gate does.",
		categories:  "Security",
		tags:        "security,vulnerability,scan,paved",
		args:        []positional{imageRef},
		flags: onImage(map[string]flagMapping{
			"vuln-db": ws(WorkspaceVulnDB), "scan-required": viaExtra(whyOnlyWhenGiven),
		}),
		registry: true, context: true, report: true,
	},
	{
		command:     "sign",
		displayName: "paved sign",
		description: "Signs a published image index and each platform manifest with paved (cosign's layout), by key from the signing-keys workspace or a KMS.",
		categories:  "Security",
		tags:        "security,signing,cosign,paved",
		args:        []positional{imageRef},
		flags:       onImage(signingFlags()),
		registry:    true, signs: true, context: true, report: true,
	},
	{
		command:     "attest",
		displayName: "paved attest",
		description: "Attaches signed SLSA provenance (of the source's commit) and SBOM attestations to a published image with paved.",
		categories:  "Security",
		tags:        "security,attestation,slsa,sbom,paved",
		args:        []positional{imageRef},
		flags:       onImage(signingFlags()),
		registry:    true, signs: true, context: true, report: true,
	},
	{
		command:     "verify",
		displayName: "paved verify",
		description: "Checks an image's signature, and optionally its attestations, by key or keyless identity with paved; the TaskRun fails when they do not verify.",
		categories:  "Security",
		tags:        "security,signing,verification,paved",
		args: []positional{
			{name: "REF", description: "The image to verify, REPO@sha256:…"},
		},
		flags: map[string]flagMapping{
			"key": viaExtra(whyRepeatable), "type": viaExtra(whyRepeatable),
			"issuer": p(), "identity": p(), "identity-regexp": p(), "trusted-root": p(),
			"source": pNote(inSource), "json": viaExtra(whyJSON),
		},
		registry: true, keys: true,
	},
	{
		command:     "promote",
		displayName: "paved promote",
		description: "Verifies an image against paved's promotion policy, copies it by digest with its signatures and attestations, and can bump a GitOps overlay and open a pull request.",
		categories:  "Deployment",
		tags:        "deploy,promotion,security,gitops,paved",
		flags: map[string]flagMapping{
			"from": p(), "to": p(), "tag": viaExtra(whyRepeatable), "policy": p(),
			"key": viaExtra(whyRepeatable), "issuer": p(), "identity": p(), "identity-regexp": p(), "trusted-root": p(),
			"vuln-db": ws(WorkspaceVulnDB), "service": p(), "gitops": ws(WorkspaceGitOps),
			"overlay": p(), "overlay-image": p(), "source": pNote(inSource), "branch": p(), "push": p(),
			"github-repo": p(), "github-api": p(), "base-branch": p(),
			"deployments": viaExtra(whyPodFile),
			"report":      viaExtra(whyPodFile),
			"json":        viaExtra(whyJSON),
			"events":      viaExtra(whyEvents),
		},
		registry: true, keys: true, github: true,
	},
}

// imageRef is the published image a verb works on.
var imageRef = positional{name: "REF", description: "The published image, REPO@sha256:… (IMAGE_URL@IMAGE_DIGEST of paved-build)."}

// onImage are the flags of a verb on a published image: the source, the
// cache and the report, and its own.
func onImage(own map[string]flagMapping) map[string]flagMapping {
	m := map[string]flagMapping{
		"source": pNote(inSource), "cache-dir": ws(WorkspaceCache), "no-cache": p(),
		"cache-max-size": viaExtra(whyOnlyWhenGiven), "report": viaExtra(whyReport), "json": viaExtra(whyJSON),
		"events": viaExtra(whyEvents),
	}
	for k, v := range own {
		m[k] = v
	}
	return m
}

// signingFlags are the flags of the verbs that sign.
func signingFlags() map[string]flagMapping {
	return map[string]flagMapping{"key": pNote(keyNote), "keyless": p(), "fulcio-url": p(), "rekor-url": p(), "trusted-root": p()}
}

// taskName is the Task's name: the verb, prefixed so it does not clash
// with the catalog's Tasks in a namespace.
func taskName(command string) string { return "paved-" + command }
