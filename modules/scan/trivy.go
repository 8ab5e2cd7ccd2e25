package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	dbtypes "github.com/aquasecurity/trivy-db/pkg/types"
	ospkgdetector "github.com/aquasecurity/trivy/pkg/detector/ospkg"
	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	"github.com/aquasecurity/trivy/pkg/scan/langpkg"
	"github.com/aquasecurity/trivy/pkg/scan/ospkg"
	"github.com/aquasecurity/trivy/pkg/types"
	"github.com/aquasecurity/trivy/pkg/vulnerability"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"

	"github.com/pavedhq/paved/modules/sbom"
)

// trivyMu serialises Trivy in this process: trivy-db keeps the open
// database in a package variable.
var trivyMu sync.Mutex

// staleAfter is the age past which an air-gapped Trivy database earns a
// warning; Trivy's own mirror publishes a new one every few hours.
const staleAfter = 7 * 24 * time.Hour

// trivyDB is Trivy's vulnerability database, open (and trivyMu held) from
// openTrivyDB to close.
type trivyDB struct{}

// unavailableError says a scanner's database is not there to be opened:
// absent from the air-gapped directory, or not downloadable. The scanner
// cannot run; a database that is there but unreadable is another error.
type unavailableError struct{ msg string }

func (e *unavailableError) Error() string { return e.msg }

// openTrivyDB opens DBDir's database read-only, or downloads one into the
// cache directory when DBDir is empty. It returns an *unavailableError
// when DBDir has none or the download fails.
func openTrivyDB(ctx context.Context, opts Options, now time.Time) (*trivyDB, []string, error) {
	quietTrivy()
	var warns []string
	var dir string
	var boltOpts *bolt.Options
	if opts.DBDir != "" {
		dir = filepath.Join(opts.DBDir, TrivyDBDir)
		if _, err := os.Stat(trivydb.Path(dir)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &unavailableError{"no Trivy vulnerability database in " + dir}
		} else if err != nil {
			return nil, nil, fmt.Errorf("trivy database: %w", err)
		}
		meta, err := metadata.NewClient(dir).Get()
		if err != nil {
			return nil, nil, fmt.Errorf("trivy database %s: %w", metadata.Path(dir), err)
		}
		if meta.Version != trivydb.SchemaVersion {
			return nil, nil, fmt.Errorf("trivy database %s: schema version %d, this Trivy reads version %d", metadata.Path(dir), meta.Version, trivydb.SchemaVersion)
		}
		if age := now.Sub(meta.UpdatedAt); age > staleAfter {
			warns = append(warns, fmt.Sprintf("trivy database in %s was built %s, %d days ago", dir, meta.UpdatedAt.UTC().Format(time.DateOnly), int(age.Hours()/24)))
		}
		// Read-only: an air-gapped database may sit on a read-only mount
		// and be shared by concurrent scans.
		boltOpts = &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second}
	} else {
		cacheDir := opts.CacheDir
		if cacheDir == "" {
			c, err := defaultCacheDir()
			if err != nil {
				return nil, nil, &unavailableError{"no Trivy vulnerability database: " + err.Error()}
			}
			cacheDir = c
		}
		dir = filepath.Join(cacheDir, TrivyDBDir)
		if err := downloadTrivyDB(ctx, dir, now); err != nil {
			if ctx.Err() != nil {
				return nil, nil, err
			}
			return nil, nil, &unavailableError{err.Error()}
		}
		boltOpts = &bolt.Options{Timeout: 5 * time.Second}
	}

	trivyMu.Lock()
	if err := trivydb.Init(dir, trivydb.WithBoltOptions(boltOpts)); err != nil {
		trivyMu.Unlock()
		return nil, nil, fmt.Errorf("trivy database %s: %w", trivydb.Path(dir), err)
	}
	return &trivyDB{}, warns, nil
}

func (d *trivyDB) close() error {
	defer trivyMu.Unlock()
	return trivydb.Close()
}

// lookup returns the severity and title Trivy's database gives the first
// of ids it knows, for findings from scanners that carry no severity.
func (d *trivyDB) lookup(ids []string) (sev, title string, ok bool) {
	for _, id := range ids {
		v, err := trivydb.Config{}.GetVulnerability(id)
		if err != nil {
			continue
		}
		sev = v.Severity
		if sev == "" {
			best := dbtypes.SeverityUnknown
			for _, s := range v.VendorSeverity {
				if s > best {
					best = s
				}
			}
			sev = best.String()
		}
		return sev, v.Title, true
	}
	return "", "", false
}

// platformParallelism bounds how many platforms are scanned at once: each
// unpacks its layers and catalogues the files in them.
const platformParallelism = 2

// scanIndex scans every platform of idx. Findings come in the index's
// order whatever order the scans finish in; the warnings say what the
// catalogers could not read.
func (d *trivyDB) scanIndex(ctx context.Context, idx v1.ImageIndex) ([]Finding, []string, error) {
	imgs, err := platformImages(idx)
	if err != nil {
		return nil, nil, err
	}
	found := make([][]Finding, len(imgs))
	unread := make([][]string, len(imgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(platformParallelism)
	for i, pi := range imgs {
		g.Go(func() error {
			fs, u, err := d.scanImage(gctx, pi.platform, pi.img)
			if err != nil {
				return fmt.Errorf("trivy: %s: %w", pi.platform, err)
			}
			found[i] = fs
			for _, m := range u {
				unread[i] = append(unread[i], fmt.Sprintf("trivy: %s: not all packages could be read: %s", pi.platform, m))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return slices.Concat(found...), slices.Concat(unread...), nil
}

// scanImage catalogues the packages installed in one platform's image
// with Syft's catalogers, those the SBOM step uses, and matches them
// against Trivy's database with Trivy's own detectors: the OS packages
// against the distribution's advisories, the Go, npm, Python and other
// language packages against their ecosystems'.
func (d *trivyDB) scanImage(ctx context.Context, platform string, img v1.Image) ([]Finding, []string, error) {
	in, err := sbom.Packages(ctx, img, platform)
	if err != nil {
		return nil, nil, err
	}
	target := scanTarget(platform, in)
	opts := types.ScanOptions{
		PkgTypes:            []string{types.PkgTypeOS, types.PkgTypeLibrary},
		PkgRelationships:    ftypes.Relationships,
		Scanners:            types.Scanners{types.VulnerabilityScanner},
		VulnSeveritySources: []dbtypes.SourceID{"auto"},
	}
	var results types.Results
	osResult, _, err := ospkg.NewScanner().Scan(ctx, target, opts)
	switch {
	case errors.Is(err, ospkgdetector.ErrUnsupportedOS):
	case err != nil:
		return nil, nil, fmt.Errorf("OS packages: %w", err)
	case osResult.Target != "":
		results = append(results, osResult)
	}
	langResults, err := langpkg.NewScanner().Scan(ctx, target, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("language packages: %w", err)
	}
	results = append(results, langResults...)
	vc := vulnerability.NewClient(trivydb.Config{})
	var out []Finding
	for _, r := range results {
		vc.FillInfo(r.Vulnerabilities, opts.VulnSeveritySources)
		for _, v := range r.Vulnerabilities {
			out = append(out, Finding{
				ID:           v.VulnerabilityID,
				Aliases:      v.VendorIDs,
				Package:      v.PkgName,
				Version:      v.InstalledVersion,
				FixedVersion: v.FixedVersion,
				Severity:     v.Severity,
				Title:        cmp.Or(v.Title, firstLine(v.Description)),
				URL:          v.PrimaryURL,
				Scanner:      Trivy,
				Target:       platform,
				Location:     r.Target,
			})
		}
	}
	return out, in.Unread, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
