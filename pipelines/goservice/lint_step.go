package goservice

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pavedhq/paved/modules/scan/expiry"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/protocol"
	"github.com/pavedhq/paved/runner"
)

// The lint step's config and value are the protocol's: staticcheck and
// gosec link golang.org/x/tools' SSA and hundreds of analyzers, so they
// run in the executor (paved-worker) beside Syft and Trivy, and paved
// itself stays small. The key is computed here, so a warm run never
// starts the worker.
type (
	LintConfig = protocol.LintConfig
	LintValue  = protocol.LintValue
)

// Files the lint step writes.
const (
	LintJSON  = protocol.LintJSON
	LintSARIF = protocol.LintSARIF
)

// lintStep runs staticcheck (lint) and gosec (SAST) on the source, beside
// the tests' go vet, and applies their gates.
type lintStep struct {
	cfg  LintConfig
	exec protocol.Executor
	// cache is where staticcheck keeps its per-package results, if
	// anywhere; no part of the key (it changes no finding).
	cache string
	// now is when exceptions are judged, for the key; nil means time.Now.
	now func() time.Time
}

var _ runner.Keyed = (*lintStep)(nil)

func (s *lintStep) Name() string { return "lint" }

// Key covers the source, go.mod and go.sum and the toolchain (sourceKey),
// the settings, the tools' versions (the executor's identity), and which
// exceptions hold today: a result that an exception let pass must not be
// served from the cache after it lapses.
func (s *lintStep) Key(ctx context.Context, _ runner.Inputs) (string, error) {
	k, err := sourceKey(ctx, "lint/v1", s.cfg.Dir)
	if err != nil {
		return "", err
	}
	id, err := identity(ctx, s.exec, s.Name())
	if err != nil {
		return "", err
	}
	now := time.Now()
	if s.now != nil {
		now = s.now()
	}
	var held []bool
	for _, t := range []protocol.LintToolConfig{s.cfg.Staticcheck, s.cfg.Gosec} {
		for _, e := range t.Ignore {
			held = append(held, expiry.Honoured(e.Expires, now))
		}
	}
	return k.JSON("config", s.cfg).JSON("honoured", held).String("worker", id).Sum(), nil
}

func (s *lintStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	if s.exec == nil {
		return nil, noExecutor(s.Name())
	}
	return toResult(s.exec.Lint(ctx, protocol.LintRequest{Config: s.cfg, OutDir: in.OutDir, CacheDir: s.cache}))
}

// lintConfig reads paved.yaml's lint: and sast: sections, with the flags
// (pipelines.Options.Lint and SAST) over their enabled fields.
func lintConfig(r *pipelines.Run, o pipelines.Options) (LintConfig, error) {
	lc := LintConfig{Dir: r.Context.Dir}
	var err error
	if lc.Staticcheck, err = lintToolConfig("lint", r.Config.Lint, o.Lint); err != nil {
		return LintConfig{}, err
	}
	if lc.Gosec, err = lintToolConfig("sast", pipelines.LintConfig(r.Config.SAST), o.SAST); err != nil {
		return LintConfig{}, err
	}
	return lc, nil
}

func lintToolConfig(section string, c pipelines.LintConfig, flag *bool) (protocol.LintToolConfig, error) {
	enabled := c.Enabled == nil || *c.Enabled
	if flag != nil {
		enabled = *flag
	}
	t := protocol.LintToolConfig{Disabled: !enabled, Checks: c.Checks, Severity: strings.ToUpper(c.Severity), Warn: c.Mode == "warn"}
	for i, e := range c.Ignore {
		exp, err := expiry.Parse(e.Expires)
		if err != nil {
			return t, &pipelines.ConfigError{Field: fmt.Sprintf("%s: %s.ignore[%d].expires", pipelines.ConfigFile, section, i), Msg: err.Error()}
		}
		t.Ignore = append(t.Ignore, protocol.LintException{Rule: e.Rule, Path: e.Path, Reason: e.Reason, Expires: exp})
	}
	return t, nil
}
