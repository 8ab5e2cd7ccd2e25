package scan

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
)

// Run scans the image index with Trivy and the source with govulncheck,
// merges their findings, and applies the gate. When the gate fails it
// returns the report and a *GateError. When a scanner the input needs
// cannot run for want of its database (absent from Options.DBDir, or not
// downloadable), Run still runs the others and returns the report with an
// *IncompleteError naming each missing database, unless
// Options.AllowIncomplete says to go on; the report's Status says what was
// scanned either way. Any other error means the scan could not be done.
func Run(ctx context.Context, in Input, opts Options) (*Report, error) {
	sevs, err := opts.Gate.severities()
	if err != nil {
		return nil, err
	}
	if in.Index == nil && in.Source == "" {
		return nil, errors.New("scan: nothing to scan: no image index and no source directory")
	}
	now := time.Now()
	rep := &Report{Findings: []Finding{}, Scanners: []string{}}
	var missing []string

	// Trivy's database scans the image and gives govulncheck's findings,
	// which carry no severity, the severity of their CVE or GHSA alias.
	var tdb *trivyDB
	if in.Index != nil || opts.DBDir != "" {
		db, warns, err := openTrivyDB(ctx, opts, now)
		var ue *unavailableError
		switch {
		case errors.As(err, &ue):
			if in.Index != nil {
				missing = append(missing, Trivy+": "+ue.Error())
			}
		case err != nil:
			return nil, err
		default:
			if in.Index != nil {
				rep.Warnings = append(rep.Warnings, warns...)
			}
			tdb = db
			defer tdb.close()
		}
	}

	var govuln *govulnDB
	if in.Source != "" {
		switch dir := filepath.Join(opts.DBDir, GoVulnDir); {
		case opts.DBDir == "":
			if err := probeGoVulnDB(ctx); err != nil {
				missing = append(missing, Govulncheck+": "+err.Error())
			} else {
				govuln = &govulnDB{}
			}
		case hasGoVulnDB(dir):
			govuln = &govulnDB{dir: dir, offline: true}
		default:
			missing = append(missing, Govulncheck+": no Go vulnerability database in "+dir)
		}
	}

	var imageFindings, sourceFindings []Finding
	var unread []string
	g, gctx := errgroup.WithContext(ctx)
	if in.Index != nil && tdb != nil {
		rep.Scanners = append(rep.Scanners, Trivy)
		g.Go(func() (err error) {
			imageFindings, unread, err = tdb.scanIndex(gctx, in.Index)
			return err
		})
	}
	if govuln != nil {
		rep.Scanners = append(rep.Scanners, Govulncheck)
		g.Go(func() (err error) {
			sourceFindings, rep.CallGraph, err = scanSource(gctx, in.Source, *govuln)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rep.Warnings = append(rep.Warnings, unread...)
	if tdb == nil && len(sourceFindings) > 0 {
		rep.Warnings = append(rep.Warnings, "govulncheck findings have severity UNKNOWN: no Trivy database to look up their CVE and GHSA aliases in")
	}
	if tdb != nil {
		for i := range sourceFindings {
			f := &sourceFindings[i]
			if sev, title, ok := tdb.lookup(slices.Concat(f.Aliases, []string{f.ID})); ok {
				f.Severity = sev
				if f.Title == "" {
					f.Title = title
				}
			}
		}
	}
	crossAlias(imageFindings, sourceFindings)

	active, warns := activeIgnores(opts.Gate.Ignore, now)
	rep.Warnings = append(rep.Warnings, warns...)
	rep.Findings = normalize(append(imageFindings, sourceFindings...))
	rep.Warnings = append(rep.Warnings, applyIgnores(rep.Findings, active)...)
	rep.Counts = count(rep.Findings)
	rep.Gate = evaluate(rep.Findings, sevs, opts.Gate.AnyFix)
	rep.Status, rep.Missing = status(len(rep.Scanners), len(missing)), missing

	var errs []error
	if len(missing) > 0 {
		ie := &IncompleteError{Status: rep.Status, Missing: missing, Scanners: rep.Scanners}
		if opts.AllowIncomplete {
			rep.Warnings = append(rep.Warnings, ie.Error())
		} else {
			errs = append(errs, ie)
		}
	}
	if rep.Status == NotScanned {
		// Nothing was checked, so nothing passed.
		rep.Gate.Passed = false
	} else if !rep.Gate.Passed {
		errs = append(errs, &GateError{Violations: rep.Gate.Violations, Rule: rep.Gate.Rule})
	}
	switch len(errs) {
	case 0:
		return rep, nil
	case 1:
		return rep, errs[0]
	}
	return rep, errors.Join(errs...)
}

// crossAlias gives Trivy's findings the Go IDs of the same vulnerabilities
// from govulncheck, so one Ignore entry covers both scanners.
func crossAlias(image, source []Finding) {
	goIDs := map[string][]string{}
	for _, f := range source {
		for _, a := range f.Aliases {
			goIDs[a] = append(goIDs[a], f.ID)
		}
	}
	for i := range image {
		for _, id := range image[i].ids() {
			image[i].Aliases = append(image[i].Aliases, goIDs[id]...)
		}
	}
}

// hasGoVulnDB reports whether dir holds a Go vulnerability database in
// the v1 layout.
func hasGoVulnDB(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "index", "db.json"))
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
