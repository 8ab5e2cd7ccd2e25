package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// RunOptions are the flags shared by every command that runs a pipeline.
type RunOptions struct {
	Source    string
	Image     string
	Platforms []string
	Base      string
	Tags      []string
	Coverage  float64
	CacheDir  string
	NoCache   bool
	// CacheMaxSize bounds the cache after the run ("" for the default).
	CacheMaxSize string
	Report       string
	JSON         bool
	VulnDB       string
	// ScanRequired is --scan-required; paved.yaml's scan.required unless
	// the flag is given.
	ScanRequired bool
	// Lint and SAST are --lint and --sast; paved.yaml's lint.enabled and
	// sast.enabled unless the flags are given.
	Lint, SAST bool
	Key        string
	Keyless    bool
	FulcioURL  string
	RekorURL   string
	// TrustedRoot verifies --keyless's Fulcio and Rekor answers.
	TrustedRoot string
	// Events are the CDEvents sinks (--events), on top of paved.yaml's
	// and PAVED_EVENTS.
	Events []string
}

// AddFlags registers the flags; build and test register the ones they use.
func (o *RunOptions) AddFlags(fs *pflag.FlagSet, withBuild, withTest bool) {
	fs.StringVar(&o.Source, "source", ".", "service directory")
	if withBuild {
		fs.StringVar(&o.Image, "image", "", "registry repository (host/path) or oci:DIR to publish to (default: oci:<source>/.paved/image)")
		fs.StringSliceVar(&o.Platforms, "platform", nil, "platforms to build, os/arch[/variant] (default from paved.yaml, else linux/amd64,linux/arm64)")
		fs.StringVar(&o.Base, "base", "", `base image: "paved" (minimal, built in) or an image reference (default from paved.yaml)`)
		fs.StringSliceVar(&o.Tags, "tag", nil, "tags to set on the published image (default latest)")
	}
	if withBuild {
		o.addScanFlags(fs)
		o.addSigningFlags(fs)
	}
	if withTest {
		fs.Float64Var(&o.Coverage, "coverage", -1, "minimum statement coverage in percent (default from paved.yaml, else 80)")
		fs.BoolVar(&o.Lint, "lint", true, "lint with staticcheck and fail on its gate; =false skips it and the report says so (default from paved.yaml lint.enabled)")
		fs.BoolVar(&o.SAST, "sast", true, "check for security problems with gosec and fail on its gate; =false skips it and the report says so (default from paved.yaml sast.enabled)")
	}
	o.addRunFlags(fs)
}

// addScanFlags registers the scan step's flags.
func (o *RunOptions) addScanFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.VulnDB, "vuln-db", "", "air-gapped vulnerability database directory (Trivy cache layout, with govulndb/): no scanner touches the network")
	fs.BoolVar(&o.ScanRequired, "scan-required", true, "fail before publishing when a scanner cannot run for want of its database; =false publishes and the report says \"not scanned\" (default from paved.yaml scan.required)")
}

// addSigningFlags registers the sign and attest steps' flags.
func (o *RunOptions) addSigningFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Key, "key", "", "sign and attest with this cosign key file or KMS URI (password from COSIGN_PASSWORD)")
	fs.BoolVar(&o.Keyless, "keyless", false, "sign and attest keyless: a Fulcio certificate for the CI's OIDC token, logged in Rekor")
	fs.StringVar(&o.FulcioURL, "fulcio-url", "https://fulcio.sigstore.dev", "Fulcio for --keyless")
	fs.StringVar(&o.RekorURL, "rekor-url", "https://rekor.sigstore.dev", "Rekor for --keyless")
	fs.StringVar(&o.TrustedRoot, "trusted-root", "", "Sigstore trusted_root.json that --keyless checks Fulcio's certificate and Rekor's entries against (default: the public-good instance's, via TUF)")
}

// addRunFlags registers the flags of every command that runs steps: the
// cache and the report.
func (o *RunOptions) addRunFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.CacheDir, "cache-dir", "", "step cache directory (default $XDG_CACHE_HOME/paved)")
	fs.BoolVar(&o.NoCache, "no-cache", false, "run every step, reading and writing no cache")
	fs.StringVar(&o.CacheMaxSize, "cache-max-size", "", "after the run, evict the least recently used step results beyond this size, such as 2GB; 0 keeps all (default $"+CacheMaxSizeEnv+", else 10GiB)")
	fs.StringVar(&o.Report, "report", "", "also write the JSON run report to this file")
	fs.BoolVar(&o.JSON, "json", false, "print the run report on stdout instead of progress and the image reference")
	addEventsFlag(fs, &o.Events)
}

// Validate checks what flags alone can tell.
func (o *RunOptions) Validate(fs *pflag.FlagSet) error {
	if fs.Changed("coverage") && (o.Coverage < 0 || o.Coverage > 100) {
		return &UsageError{Err: fmt.Errorf("--coverage %v: want a percentage between 0 and 100", o.Coverage)}
	}
	if len(o.Platforms) > 0 {
		if _, err := pipelines.ParsePlatforms(o.Platforms); err != nil {
			return &UsageError{Err: fmt.Errorf("--platform: %w", err)}
		}
	}
	if o.Key != "" && o.Keyless {
		return &UsageError{Err: fmt.Errorf("--key and --keyless: choose one way to sign")}
	}
	if _, err := cacheMaxSize(fs, "cache-max-size"); err != nil {
		return err
	}
	if o.TrustedRoot != "" && !o.Keyless {
		return &UsageError{Err: fmt.Errorf("--trusted-root needs --keyless")}
	}
	if o.Report != "" {
		if info, err := os.Stat(filepath.Dir(o.Report)); err != nil || !info.IsDir() {
			return &UsageError{Err: fmt.Errorf("--report %s: directory %s does not exist", o.Report, filepath.Dir(o.Report))}
		}
	}
	return nil
}

// pipelineOptions translates flags into the pipeline's options.
func (o *RunOptions) pipelineOptions(fs *pflag.FlagSet) pipelines.Options {
	po := pipelines.Options{Source: o.Source, Image: o.Image, Platforms: o.Platforms, Base: o.Base, Tags: o.Tags, VulnDB: o.VulnDB}
	if fs.Lookup("scan-required") != nil && fs.Changed("scan-required") {
		v := o.ScanRequired
		po.ScanRequired = &v
	}
	for name, dst := range map[string]**bool{"lint": &po.Lint, "sast": &po.SAST} {
		if fs.Lookup(name) != nil && fs.Changed(name) {
			v, _ := fs.GetBool(name)
			*dst = &v
		}
	}
	if fs.Lookup("coverage") != nil && fs.Changed("coverage") {
		c := o.Coverage
		po.MinCoverage = &c
	}
	return po
}

// cacheDir is --cache-dir, else $XDG_CACHE_HOME/paved (the OS's user cache
// directory when XDG_CACHE_HOME is unset).
func (o *RunOptions) cacheDir() (string, error) { return cacheDir(o.CacheDir) }

func cacheDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", &UsageError{Err: fmt.Errorf("no cache directory: set --cache-dir or XDG_CACHE_HOME: %w", err)}
	}
	return filepath.Join(base, "paved"), nil
}

// signing gathers what signing needs from the secrets the command took
// out of the environment (takeSecrets). The OIDC token is only located
// here; the sign step fetches it when signing starts.
func (o *RunOptions) signing(ctx context.Context) (pipelines.Signing, error) {
	sec := secretsFrom(ctx)
	s := pipelines.Signing{Key: o.Key, Keyless: o.Keyless, FulcioURL: o.FulcioURL, RekorURL: o.RekorURL, TrustedRoot: o.TrustedRoot}
	if o.Key != "" {
		s.Password = []byte(sec.Getenv("COSIGN_PASSWORD"))
	}
	if o.Keyless {
		src, err := runner.IDTokenSource("sigstore", sec.Getenv)
		if err != nil {
			return s, &UsageError{Err: fmt.Errorf("--keyless: %w", err)}
		}
		s.IDToken = src
	}
	return s, nil
}
