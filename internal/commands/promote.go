package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pavedhq/paved/internal/atomicfile"
	"github.com/pavedhq/paved/modules/promote"
	"github.com/pavedhq/paved/modules/promote/gitops"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner/events"
)

// signerFlags add allowed signers on top of a policy.
type signerFlags struct {
	keys                                          []string
	issuer, identity, identityRegexp, trustedRoot string
}

func (f *signerFlags) add(fs *pflag.FlagSet, keyUsage string) {
	fs.StringArrayVar(&f.keys, "key", nil, keyUsage)
	fs.StringVar(&f.issuer, "issuer", "", "OIDC issuer a keyless signature must come from")
	fs.StringVar(&f.identity, "identity", "", "certificate identity (email, URI) a keyless signature must carry")
	fs.StringVar(&f.identityRegexp, "identity-regexp", "", "certificate identity pattern, instead of --identity")
	fs.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json for keyless signatures (default: the public-good instance)")
}

func (f *signerFlags) signers() ([]promote.Signer, error) {
	var out []promote.Signer
	for _, k := range f.keys {
		out = append(out, promote.Signer{Key: k})
	}
	if f.issuer != "" || f.identity != "" || f.identityRegexp != "" {
		out = append(out, promote.Signer{Issuer: f.issuer, Identity: f.identity, IdentityRegexp: f.identityRegexp, TrustedRoot: f.trustedRoot})
	} else if f.trustedRoot != "" {
		return nil, &UsageError{Err: errors.New("--trusted-root needs --issuer and --identity or --identity-regexp")}
	}
	return out, nil
}

// policyFlags read a policy file and extend it with signer flags.
type policyFlags struct {
	signerFlags
	file   string
	vulnDB string
}

func (f *policyFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.file, "policy", "", "promotion policy file (default: the built-in policy: signed, SLSA provenance, SBOM, scan gate CRITICAL with a fix)")
	f.signerFlags.add(fs, "public key file or KMS URI allowed to sign, on top of the policy's signers (repeatable)")
	fs.StringVar(&f.vulnDB, "vuln-db", "", "air-gapped vulnerability database for the scan rule (Trivy cache layout)")
}

// serviceSigner is the keyless signer the service's paved.yaml names
// (sign.identity, sign.issuer) in dir, default ".": what verify and
// promote accept when no policy or flag names a signer. It never widens
// a policy that names its own signers.
func serviceSigner(dir string) (*promote.Signer, error) {
	if dir == "" {
		dir = "."
	}
	cfg, err := pipelines.LoadConfig(dir)
	if err != nil || cfg.Sign.Identity == "" {
		return nil, err
	}
	return &promote.Signer{Issuer: cfg.Sign.Issuer, Identity: cfg.Sign.Identity}, nil
}

// policy reads the policy and extends it with the signer flags; with no
// signer named, the one in sourceDir's paved.yaml is the default.
func (f *policyFlags) policy(sourceDir string) (promote.Policy, error) {
	p := promote.Policy{}.WithDefaults()
	if f.file != "" {
		var err error
		if p, err = promote.LoadPolicy(f.file); err != nil {
			return promote.Policy{}, err
		}
	}
	extra, err := f.signers()
	if err != nil {
		return promote.Policy{}, err
	}
	p.Signers = append(p.Signers, extra...)
	if len(p.Signers) == 0 {
		s, err := serviceSigner(sourceDir)
		if err != nil {
			return promote.Policy{}, err
		}
		if s != nil {
			p.Signers = append(p.Signers, *s)
		}
	}
	if err := p.Validate("policy"); err != nil {
		return promote.Policy{}, err
	}
	if len(p.Signers) == 0 {
		return promote.Policy{}, &UsageError{Err: errors.New("no allowed signer: name one with --key, --issuer/--identity, in the --policy file, or as sign.identity and sign.issuer in the service's paved.yaml (--source)")}
	}
	if f.vulnDB != "" {
		if info, err := os.Stat(f.vulnDB); err != nil || !info.IsDir() {
			return promote.Policy{}, &UsageError{Err: fmt.Errorf("--vuln-db %s: not a directory", f.vulnDB)}
		}
	}
	return p, nil
}

func newVerify() *cobra.Command {
	var (
		f      signerFlags
		types  []string
		source string
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "verify IMAGE@DIGEST",
		Short: "Check an image's signature, and optionally its attestations, by key or keyless identity",
		Example: `  paved verify localhost:5000/team/svc@sha256:… --key cosign.pub
  paved verify REF --key cosign.pub --type slsaprovenance1 --type spdxjson
  paved verify REF --issuer https://token.actions.githubusercontent.com \
      --identity-regexp '^https://github.com/acme/.*'
  paved verify REF --source ./svc      # the identity in its paved.yaml (sign:)`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			signers, err := f.signers()
			if err != nil {
				return err
			}
			if len(signers) == 0 {
				s, err := serviceSigner(source)
				if err != nil {
					return err
				}
				if s == nil {
					return &UsageError{Err: errors.New("name the signer: --key, --issuer with --identity or --identity-regexp, or sign.identity and sign.issuer in the service's paved.yaml (--source)")}
				}
				signers = append(signers, *s)
			}
			off := false
			p := promote.Policy{Signers: signers}.WithDefaults()
			p.Provenance.Required, p.SBOM.Required, p.Scan.Required = &off, &off, &off
			for _, t := range types {
				switch t {
				case "slsaprovenance1":
					p.Provenance.Required = nil
				case "spdxjson", "cyclonedx":
					p.SBOM.Required = nil
					p.SBOM.Formats = append(p.SBOM.Formats, strings.TrimSuffix(t, "json"))
				default:
					return &UsageError{Err: fmt.Errorf("--type %q: want slsaprovenance1, spdxjson or cyclonedx", t)}
				}
			}
			if err := p.Validate("flags"); err != nil {
				return err
			}
			return evaluateAndPrint(c, args[0], p, "", asJSON)
		},
	}
	f.add(c.Flags(), "public key file or KMS URI the signature must verify with (repeatable: any of them)")
	c.Flags().StringVar(&source, "source", "", "service directory whose paved.yaml (sign.identity, sign.issuer) names the signer when no flag does (default .)")
	c.Flags().StringArrayVar(&types, "type", nil, "also require a signed attestation of this type: slsaprovenance1, spdxjson, cyclonedx (repeatable)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the evaluation as JSON")
	return c
}

func newPolicy() *cobra.Command {
	c := &cobra.Command{
		Use:   "policy",
		Short: "Check images against a promotion policy",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	var (
		f      policyFlags
		source string
		asJSON bool
	)
	check := &cobra.Command{
		Use:   "check IMAGE@DIGEST",
		Short: "List each rule of the policy as passed or failed for an image, and why",
		Example: `  paved policy check localhost:5000/team/svc@sha256:… --policy policy.yaml
  paved policy check REF --key cosign.pub --vuln-db ./vulndb`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			p, err := f.policy(source)
			if err != nil {
				return err
			}
			return evaluateAndPrint(c, args[0], p, f.vulnDB, asJSON)
		},
	}
	f.add(check.Flags())
	check.Flags().StringVar(&source, "source", "", "service directory whose paved.yaml (sign.identity, sign.issuer) names the signer when neither the policy nor a flag does (default .)")
	check.Flags().BoolVar(&asJSON, "json", false, "print the evaluation as JSON")
	c.AddCommand(check)
	return c
}

// evaluateAndPrint checks ref against p and prints one line per rule; a
// failed rule is exit 1.
func evaluateAndPrint(c *cobra.Command, ref string, p promote.Policy, vulnDB string, asJSON bool) error {
	ctx := c.Context()
	d, verdict, err := promote.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	ev, err := protocol.Evaluator{Executor: executor, VulnDB: vulnDB}.Evaluate(ctx, d, p)
	if err != nil {
		return err
	}
	if verdict != nil {
		ev.Verdicts = append([]promote.Verdict{*verdict}, ev.Verdicts...)
	}
	out := c.OutOrStdout()
	if asJSON {
		if err := writeJSON(out, ev); err != nil {
			return err
		}
	} else {
		printEvaluation(out, ev)
	}
	if failed := ev.Failed(); len(failed) > 0 {
		return &promote.RefusedError{Subject: d.String(), Failed: failed}
	}
	return nil
}

func printEvaluation(w io.Writer, ev *promote.Evaluation) {
	fmt.Fprintln(w, ev.Subject)
	for _, v := range ev.Verdicts {
		fmt.Fprintln(w, "  "+v.String())
	}
	for _, warn := range ev.Warnings {
		fmt.Fprintln(w, "  warning: "+warn)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newPromote() *cobra.Command {
	var (
		f           policyFlags
		from, to    string
		tags        []string
		service     string
		deployments string
		report      string
		asJSON      bool
		g           promote.GitOps
		githubRepo  string
		githubAPI   string
		baseBranch  string
		sinks       []string
	)
	c := &cobra.Command{
		Use:   "promote --from IMAGE@DIGEST --to REPOSITORY",
		Short: "Verify an image against the promotion policy, copy it by digest with its signatures and attestations, and bump the GitOps overlay",
		Example: `  paved promote --from localhost:5000/staging/svc@sha256:… --to localhost:5000/prod/svc --key cosign.pub
  paved promote --from REF --to REPO --policy policy.yaml --tag v1.2.3 \
      --gitops ../deploy --overlay overlays/production/kustomization.yaml`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return &UsageError{Err: errors.New("--from and --to are required")}
			}
			if _, err := name.NewRepository(to, name.StrictValidation); err != nil {
				return &UsageError{Err: fmt.Errorf("--to %s: %w", to, err)}
			}
			if report != "" {
				if info, err := os.Stat(filepath.Dir(report)); err != nil || !info.IsDir() {
					return &UsageError{Err: fmt.Errorf("--report %s: directory %s does not exist", report, filepath.Dir(report))}
				}
			}
			p, err := f.policy(g.SourceDir)
			if err != nil {
				return err
			}
			cfg, err := pipelines.LoadConfig(sourceOrDot(g.SourceDir))
			if err != nil {
				return err
			}
			if service == "" {
				service = cfg.Service
			}
			req := promote.Request{From: from, To: to, Tags: tags, Policy: p, Service: service, SourceDir: g.SourceDir}
			imageField := "--overlay-image (or promote.overlayImage in paved.yaml)"
			if g.Name == "" && g.Dir != "" && cfg.Promote.OverlayImage != "" {
				g.Name, imageField = cfg.Promote.OverlayImage, "paved.yaml: promote.overlayImage"
			} else if g.Name != "" {
				imageField = "--overlay-image"
			}
			if g.Dir != "" || g.Overlay != "" || g.Name != "" {
				if g.Dir == "" || g.Overlay == "" {
					return &UsageError{Err: errors.New("--gitops and --overlay go together (and --overlay-image needs them)")}
				}
				if githubRepo != "" {
					token := os.Getenv("GITHUB_TOKEN")
					os.Unsetenv("GITHUB_TOKEN")
					if token == "" {
						return &UsageError{Err: errors.New("--github-repo needs a token in GITHUB_TOKEN")}
					}
					g.GitHub = &promote.GitHub{Repo: githubRepo, APIURL: githubAPI, Base: baseBranch, Token: token}
				}
				req.GitOps = &g
			} else if githubRepo != "" {
				return &UsageError{Err: errors.New("--github-repo needs --gitops and --overlay")}
			}
			if deployments == "" {
				deployments = defaultDeploymentsFile()
			}
			// The deployments file is one more sink of the events.
			em, err := newEmitter(c, append(sinks, "file:"+deployments), cfg.Events, sourceOrDot(g.SourceDir))
			if err != nil {
				return err
			}
			err = runPromote(c, req, f.vulnDB, em, cfg.Team, report, asJSON)
			// Which image the overlay should pin is the caller's to say.
			if ne := (*gitops.ImageNameError)(nil); errors.As(err, &ne) {
				return &UsageError{Err: fmt.Errorf("%s: %w", imageField, err)}
			}
			return err
		},
	}
	fs := c.Flags()
	fs.StringVar(&from, "from", "", "image to promote, REPO@sha256:… (a tag with it must still point at the digest)")
	fs.StringVar(&to, "to", "", "destination repository")
	fs.StringArrayVar(&tags, "tag", nil, "tag to set at the destination once everything is copied and verified (repeatable)")
	f.add(fs)
	fs.StringVar(&service, "service", "", "service name for the deployment record (default: the destination's last path element)")
	fs.StringVar(&g.Dir, "gitops", "", "local git checkout of the GitOps repository to bump")
	fs.StringVar(&g.Overlay, "overlay", "", "kustomization.yaml or Helm values file in --gitops to set the image in")
	fs.StringVar(&g.Name, "overlay-image", "", "the image in the overlay: the image name the kustomize bases use (its images: entry is edited, or added), or a Helm values path (default: promote.overlayImage in paved.yaml, else the entry naming --to, else the one image the bases run; for Helm, image)")
	fs.StringVar(&g.SourceDir, "source", "", "the service's directory: its paved.yaml names the signer when neither the policy nor a flag does (default .), and with --gitops, a checkout to list every commit the deployment brings")
	fs.StringVar(&g.Branch, "branch", "", "branch to commit the bump on (default paved/promote-<service>-<digest>)")
	fs.StringVar(&g.Remote, "push", "", "git remote to push the branch to")
	fs.StringVar(&githubRepo, "github-repo", "", "owner/name: open a pull request for the branch (token from GITHUB_TOKEN)")
	fs.StringVar(&githubAPI, "github-api", "https://api.github.com", "GitHub REST API URL")
	fs.StringVar(&baseBranch, "base-branch", "main", "branch the pull request targets")
	fs.StringVar(&deployments, "deployments", "", "append the deployment (a service.deployed CloudEvent) to this JSON-lines file, one of the events sinks (default $XDG_STATE_HOME/paved/deployments.jsonl)")
	addEventsFlag(fs, &sinks)
	fs.StringVar(&report, "report", "", "also write the promotion report (JSON) to this file")
	fs.BoolVar(&asJSON, "json", false, "print the promotion report instead of the rules and the reference")
	return c
}

func defaultDeploymentsFile() string {
	return filepath.Join(events.StateDir(), "deployments.jsonl")
}

func sourceOrDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func runPromote(c *cobra.Command, req promote.Request, vulnDB string, em *events.Emitter, team, report string, asJSON bool) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	res, err := promote.Promote(ctx, req, protocol.Evaluator{Executor: executor, VulnDB: vulnDB})
	if err == nil && res.Deployment != nil {
		// The image is promoted: a sink that does not take the event is a
		// warning, and the event waits in the spool.
		ev, everr := deployedEvent(team, res.Deployment)
		em.Emit(ctx, ev, everr)
		em.Deliver(ctx, false, pipelines.DeliverTimeout)
		res.Warnings = append(res.Warnings, em.Warnings()...)
	}
	if res != nil && !asJSON {
		for _, w := range res.Warnings {
			fmt.Fprintf(stderr, "paved: warning: %s\n", w)
		}
	}
	reportErr := writePromoteReport(report, res)
	out := c.OutOrStdout()
	switch {
	case asJSON && res != nil:
		if werr := writeJSON(out, res); werr != nil {
			return werr
		}
	case res != nil:
		if res.Evaluation != nil {
			printEvaluation(stderr, res.Evaluation)
		}
		if g := res.GitOps; g != nil {
			fmt.Fprintln(stderr, g.Summary())
		}
		if err == nil {
			fmt.Fprintln(out, res.Destination)
		}
	}
	return errors.Join(err, reportErr)
}

// deployedEvent is service.deployed for a promotion.
func deployedEvent(team string, d *promote.Deployment) (*events.Event, error) {
	ed := events.Deployment{Environment: d.Environment, ArtifactID: d.Artifact, Digest: d.Digest,
		Repository: d.Repository, Commit: d.Commit, PreviousDigest: d.PreviousDigest, PreviousCommit: d.PreviousCommit, Time: d.Time}
	for _, c := range d.Commits {
		ed.Commits = append(ed.Commits, events.Commit{SHA: c.SHA, Author: c.Author, Time: c.Time})
	}
	return events.Origin{Team: team, Service: d.Service}.Deployed(ed)
}

// writePromoteReport writes --report when it is set and there is a
// report. --report is what CI reads: a promotion whose report could not be
// written exits 1, though the image was promoted (stdout still names it).
func writePromoteReport(path string, res *promote.Result) error {
	if path == "" || res == nil {
		return nil
	}
	return writeReportFile(path, res)
}

func writeReportFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	return nil
}
