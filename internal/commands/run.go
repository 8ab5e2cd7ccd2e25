package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pavedhq/paved/internal/hostci"
	"github.com/pavedhq/paved/modules/test"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

func newRun(version string) *cobra.Command {
	var o RunOptions
	c := &cobra.Command{
		Use:   "run [PIPELINE]",
		Short: "Run a golden path on a service (" + strings.Join(pipelines.Names(), ", ") + ")",
		Long:  "Run a golden path on a service. With no PIPELINE, the service's paved.yaml names it (path:).",
		Example: `  paved run go-service --source examples/go-service
  paved run --source examples/go-service      # the path: in its paved.yaml
  paved run go-service --source . --image localhost:5000/team/svc`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return exactArgs(1)(c, args)
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			var name string
			if len(args) == 1 {
				name = args[0]
			} else {
				cfg, err := pipelines.LoadConfig(o.Source)
				if err != nil {
					return err
				}
				if cfg.Path == "" {
					return &UsageError{Err: fmt.Errorf("name the golden path (%s), or set path: in %s", strings.Join(pipelines.Names(), ", "), filepath.Join(o.Source, pipelines.ConfigFile))}
				}
				name = cfg.Path
			}
			path := pipelines.Lookup(name)
			if path == nil {
				return &UsageError{Err: fmt.Errorf("unknown pipeline %q (known: %s)", name, strings.Join(pipelines.Names(), ", "))}
			}
			return execute(c, version, &o, path)
		},
	}
	o.AddFlags(c.Flags(), true, true)
	return c
}

func newBuild(version string) *cobra.Command {
	var o RunOptions
	c := &cobra.Command{
		Use:   "build",
		Short: "Build a Go service into a multi-arch OCI image and publish it",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return executeNamed(c, version, &o, "go-build")
		},
	}
	o.AddFlags(c.Flags(), true, false)
	return c
}

func newTest(version string) *cobra.Command {
	var o RunOptions
	c := &cobra.Command{
		Use:   "test",
		Short: "Test a Go service with go vet, coverage gate and a JUnit report",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return executeNamed(c, version, &o, "go-test")
		},
	}
	o.AddFlags(c.Flags(), false, true)
	return c
}

// executeNamed runs a registered path; the binary decides which paths it
// links (cmd/paved imports them).
func executeNamed(c *cobra.Command, version string, o *RunOptions, name string) error {
	path := pipelines.Lookup(name)
	if path == nil {
		return fmt.Errorf("this paved binary was built without the %s path", name)
	}
	return execute(c, version, o, path)
}

// execute prepares and runs a golden path, then prints the outcome: the
// published reference alone on stdout's last line, or the report with --json.
func execute(c *cobra.Command, version string, o *RunOptions, path pipelines.Path) error {
	if err := o.Validate(c.Flags()); err != nil {
		return err
	}
	ctx := c.Context()
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	var err error
	po := o.pipelineOptions(c.Flags())
	po.Executor = executor
	var cacheDir string
	if !o.NoCache {
		if cacheDir, err = o.cacheDir(); err != nil {
			return err
		}
		po.LintCache = filepath.Join(cacheDir, "staticcheck")
	}
	if c.Flags().Lookup("key") != nil {
		if po.Signing, err = o.signing(ctx); err != nil {
			return err
		}
	}
	run, err := path(ctx, po)
	if err != nil {
		return err
	}
	if run.Events, err = newEmitter(c, o.Events, run.Config.Events, run.Context.Dir); err != nil {
		return err
	}
	if o.JSON && slices.Contains(run.Events.Sinks, "stdout") {
		return &UsageError{Err: errors.New("--json and the stdout events sink both write to stdout: send the events to a file: or URL")}
	}
	r := &runner.Runner{}
	if !o.NoCache {
		if r.Cache, err = runner.NewCache(cacheDir); err != nil {
			return &UsageError{Err: fmt.Errorf("--cache-dir: %w", err)}
		}
	}
	// The CI system the run happens on, if any, gets the outcome in its
	// own files and log syntax (GitHub Actions, a Tekton TaskRun).
	host := hostci.For(run.Context, hostci.OS(stderr))
	folder, _ := host.(runner.Folder)
	var display *runner.Display
	if !o.JSON {
		display = runner.NewDisplay(stderr)
		if folder != nil {
			display.FoldSteps(folder)
		}
		r.Progress = display
	}
	if r.Tracing, err = runner.NewTracing(ctx, version); err != nil {
		fmt.Fprintf(stderr, "paved: tracing disabled: %v\n", err)
		r.Tracing = nil
	}
	rep, runErr := run.Execute(ctx, r)
	if display != nil {
		display.Close()
	}
	boundCache(c, r.Cache)
	if r.Tracing != nil {
		// A collector that is down must not fail or hang the run.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3e9)
		r.Tracing.Shutdown(sctx)
		cancel()
	}
	if rep == nil {
		return runErr
	}
	reportPath := filepath.Join(run.OutputDir, "report.json")
	if o.Report != "" {
		if err := rep.WriteFile(o.Report); err != nil {
			return errors.Join(runErr, err)
		}
		reportPath = o.Report
	}
	if host != nil {
		// Later CI steps read what the host is given: one that cannot be
		// written fails the run, as a report that cannot be written does.
		if err := host.Write(ctx, rep, absPath(reportPath)); err != nil {
			runErr = errors.Join(runErr, err)
		}
	}
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return errors.Join(runErr, err)
		}
		return runErr
	}
	printFindings(stderr, rep, runErr, folder)
	if runErr == nil && rep.Image != nil {
		fmt.Fprintln(stdout, rep.Image.Ref)
	}
	return runErr
}

// boundCache applies the cache's size bound after a run, so a CI cache
// directory or a laptop's does not grow without end. A failure to prune
// is a warning: the run itself is done.
func boundCache(c *cobra.Command, cache *runner.Cache) {
	if cache == nil || c.Context().Err() != nil {
		return
	}
	max, err := cacheMaxSize(c.Flags(), "cache-max-size")
	if err != nil || max == 0 {
		return
	}
	p, err := cache.Prune(c.Context(), runner.PruneOptions{MaxSize: max})
	switch {
	case err != nil:
		fmt.Fprintf(c.ErrOrStderr(), "paved: warning: bounding the cache: %v\n", err)
	case p.Evicted > 0 || p.Stale > 0:
		fmt.Fprintf(c.ErrOrStderr(), "paved: cache bound %s: %s\n", runner.FormatSize(max), p)
	}
}

// absPath is p made absolute when it can be.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// printFindings tells people what failed and where to look. On a CI host
// that folds its log, each failure's output is folded under its name.
func printFindings(w io.Writer, rep *runner.Report, runErr error, fold runner.Folder) {
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "paved: warning: %s\n", warn)
	}
	if s := rep.Scan; s != nil {
		for _, warn := range s.Warnings {
			fmt.Fprintf(w, "paved: scan warning: %s\n", warn)
		}
		for _, v := range s.Violations {
			fmt.Fprintf(w, "paved: scan gate (%s): %s\n", s.Gate, v)
		}
	}
	if t := rep.Test; t != nil {
		for _, f := range t.Failures {
			name := f.Package + "." + f.Test
			if f.Test == "" {
				name = f.Package + " (did not build)"
			}
			if fold != nil {
				fold.Fold(w, "--- FAIL: "+name, f.Output)
				continue
			}
			fmt.Fprintf(w, "\n--- FAIL: %s\n%s\n", name, strings.TrimRight(f.Output, "\n"))
		}
		if t.JUnit != "" {
			fmt.Fprintf(w, "paved: JUnit report: %s\n", t.JUnit)
		}
	}
	var ce *test.CoverageError
	if errors.As(runErr, &ce) {
		fmt.Fprintf(w, "paved: %v\n", ce)
	}
	if runErr != nil {
		fmt.Fprintf(w, "paved: %s failed; report: %s\n", rep.Pipeline, filepath.Join(rep.Source.Dir, pipelines.OutputDir, "report.json"))
	}
}
