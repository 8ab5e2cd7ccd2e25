package goservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/modules/scan"
	"github.com/pavedhq/paved/runner"
)

// ScanValue is the scan step's result.
type ScanValue struct {
	Counts     map[string]int `json:"counts"`
	Rule       string         `json:"rule"`
	Passed     bool           `json:"passed"`
	Violations []string       `json:"violations,omitempty"`
	Warnings   []string       `json:"warnings,omitempty"`
}

const (
	scanJSON  = "scan.json"
	scanSARIF = "scan.sarif"
)

// scanStep scans the built image with Trivy and the source with
// govulncheck, and applies the gate.
type scanStep struct {
	dir  string
	opts scan.Options
}

var _ runner.Keyed = (*scanStep)(nil)

func (s *scanStep) Name() string { return "scan" }

// Key is empty (never cached) when the databases download: they change
// under the same inputs. An air-gapped database is hashed by what says
// which version it is.
func (s *scanStep) Key(ctx context.Context, in runner.Inputs) (string, error) {
	if s.opts.DBDir == "" {
		return "", nil
	}
	var img ImageValue
	if err := in.Deps["build"].Decode(&img); err != nil {
		return "", err
	}
	k, err := sourceKey(ctx, "scan/v1", s.dir)
	if err != nil {
		return "", err
	}
	k.String("image", img.Digest).String("trivy", moduleVersion("github.com/aquasecurity/trivy")).
		String("govulncheck", moduleVersion("golang.org/x/vuln")).JSON("gate", s.opts.Gate)
	if err := dbIdentity(k, s.opts.DBDir); err != nil {
		return "", err
	}
	return k.Sum(), nil
}

// dbIdentity adds the databases' metadata and file sizes and times: cheap,
// and any update rewrites them.
func dbIdentity(k *runner.KeyBuilder, dir string) error {
	for _, rel := range []string{"db/metadata.json", "govulndb/index/db.json"} {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		k.String(rel, string(b))
	}
	for _, rel := range []string{"db/trivy.db", "govulndb/index/modules.json"} {
		if info, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			k.String(rel, fmt.Sprintf("%d %d", info.Size(), info.ModTime().UnixNano()))
		}
	}
	return nil
}

func (s *scanStep) Run(ctx context.Context, in runner.Inputs) (*runner.Result, error) {
	idx, err := build.ReadLayout(filepath.Join(in.Deps["build"].Dir, imageLayoutDir))
	if err != nil {
		return nil, err
	}
	rep, runErr := scan.Run(ctx, scan.Input{Index: idx, Source: s.dir}, s.opts)
	if rep == nil {
		return nil, runErr
	}
	if err := writeFile(filepath.Join(in.OutDir, scanJSON), rep.WriteJSON); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(in.OutDir, scanSARIF), rep.WriteSARIF); err != nil {
		return nil, err
	}
	v := ScanValue{Counts: rep.Counts, Rule: rep.Gate.Rule, Passed: rep.Gate.Passed, Warnings: rep.Warnings}
	for _, f := range rep.Gate.Violations {
		v.Violations = append(v.Violations, fmt.Sprintf("%s %s in %s %s (fixed in %s, %s)", f.Severity, f.ID, f.Package, f.Version, f.FixedVersion, f.Target))
	}
	r, err := runner.NewResult(v, countsSummary(rep.Counts))
	if err != nil {
		return nil, err
	}
	r.Export = []string{scanJSON, scanSARIF}
	return r, runErr
}

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
