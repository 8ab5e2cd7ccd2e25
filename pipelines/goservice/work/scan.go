package work

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/scan"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/protocol"
)

// Scan implements protocol.Executor.
func (Executor) Scan(ctx context.Context, req protocol.ScanRequest) (*protocol.Result[protocol.ScanValue], error) {
	cfg, out := req.Config, req.OutDir
	idx, err := build.ReadLayout(filepath.Join(req.Build.Dir, goservice.ImageLayoutDir))
	if err != nil {
		return nil, err
	}
	opts := scan.Options{DBDir: cfg.DBDir,
		Gate: scan.Gate{Severities: cfg.Severities, AnyFix: cfg.AnyFix}, AllowIncomplete: cfg.AllowIncomplete}
	for _, ig := range cfg.Ignore {
		opts.Gate.Ignore = append(opts.Gate.Ignore, scan.Ignore{ID: ig.ID, Reason: ig.Reason, Expires: ig.Expires})
	}
	rep, runErr := scan.Run(ctx, scan.Input{Index: idx, Source: cfg.Dir}, opts)
	if rep == nil {
		return nil, runErr
	}
	if err := writeFile(filepath.Join(out, goservice.ScanJSON), rep.WriteJSON); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(out, goservice.ScanSARIF), rep.WriteSARIF); err != nil {
		return nil, err
	}
	var ie *scan.IncompleteError
	if errors.As(runErr, &ie) {
		runErr = fmt.Errorf("%w (to publish without a full scan: scan.required: false in paved.yaml, or --scan-required=false)", runErr)
	}
	v := goservice.ScanValue{Status: rep.Status, Missing: rep.Missing, Counts: rep.Counts, Rule: rep.Gate.Rule, Passed: rep.Gate.Passed, Warnings: rep.Warnings}
	for _, f := range rep.Gate.Violations {
		fix := "no fix"
		if f.FixedVersion != "" {
			fix = "fixed in " + f.FixedVersion
		}
		v.Violations = append(v.Violations, fmt.Sprintf("%s %s in %s %s (%s, %s)", f.Severity, f.ID, f.Package, f.Version, fix, f.Target))
	}
	summary := countsSummary(rep.Counts)
	switch rep.Status {
	case scan.NotScanned:
		summary = rep.Status
	case scan.PartiallyScanned:
		summary = rep.Status + ", " + summary
	}
	if slices.Contains(rep.Scanners, scan.Govulncheck) && !rep.CallGraph {
		summary += " (" + noCallGraph + ")"
	}
	return &protocol.Result[protocol.ScanValue]{Value: v, Summary: summary,
		Export: []string{goservice.ScanJSON, goservice.ScanSARIF}}, runErr
}

// noCallGraph is what the scan step's summary says when govulncheck needed
// no call graph: no vulnerable package imported.
const noCallGraph = "govulncheck: no vulnerable package imported, no call graph needed"

func countsSummary(c map[string]int) string {
	var parts []string
	for _, sev := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"} {
		if c[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[sev], strings.ToLower(sev)))
		}
	}
	if len(parts) == 0 {
		return "no vulnerabilities"
	}
	return strings.Join(parts, ", ")
}

func writeFile(path string, write func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
