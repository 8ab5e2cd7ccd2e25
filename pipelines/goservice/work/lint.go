package work

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pavedhq/paved/modules/lint"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// Lint implements protocol.Executor: staticcheck and gosec on the source,
// with their gates.
func (Executor) Lint(ctx context.Context, req protocol.LintRequest) (*protocol.Result[protocol.LintValue], error) {
	cfg := req.Config
	rep, runErr := lint.Run(ctx, cfg.Dir, lint.Options{Staticcheck: lintTool(cfg.Staticcheck), Gosec: lintTool(cfg.Gosec), CacheDir: req.CacheDir})
	if rep == nil {
		return nil, runErr
	}
	if err := writeFile(filepath.Join(req.OutDir, protocol.LintJSON), rep.WriteJSON); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(req.OutDir, protocol.LintSARIF), rep.WriteSARIF); err != nil {
		return nil, err
	}
	v := protocol.LintValue{Passed: rep.Passed(), Warnings: rep.Warnings, Findings: []runner.LintFinding{}}
	var parts []string
	for _, t := range rep.Tools {
		v.Tools = append(v.Tools, runner.LintTool(t))
		parts = append(parts, toolSummary(t))
	}
	for _, f := range rep.Findings {
		v.Findings = append(v.Findings, runner.LintFinding(f))
	}
	var ge *lint.GateError
	if errors.As(runErr, &ge) {
		runErr = fmt.Errorf("%w\n(an exception with a reason and an expiry goes under lint.ignore or sast.ignore in paved.yaml)", runErr)
	}
	return &protocol.Result[protocol.LintValue]{Value: v, Summary: strings.Join(parts, "; "),
		Export: []string{protocol.LintJSON, protocol.LintSARIF}}, runErr
}

func lintTool(c protocol.LintToolConfig) lint.Tool {
	t := lint.Tool{Disabled: c.Disabled, Checks: c.Checks, Severity: c.Severity, Warn: c.Warn}
	for _, e := range c.Ignore {
		t.Ignore = append(t.Ignore, lint.Exception(e))
	}
	return t
}

func toolSummary(t lint.ToolResult) string {
	if t.Status != lint.Checked {
		return t.Tool + " " + t.Status
	}
	n := 0
	for _, c := range t.Counts {
		n += c
	}
	return fmt.Sprintf("%s %d findings", t.Tool, n)
}
