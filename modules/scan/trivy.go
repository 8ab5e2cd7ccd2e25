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
	trivycache "github.com/aquasecurity/trivy/pkg/cache"
	dbclient "github.com/aquasecurity/trivy/pkg/db"
	"github.com/aquasecurity/trivy/pkg/fanal/analyzer"
	"github.com/aquasecurity/trivy/pkg/fanal/applier"
	"github.com/aquasecurity/trivy/pkg/fanal/artifact"
	artimage "github.com/aquasecurity/trivy/pkg/fanal/artifact/image"
	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	trivyscan "github.com/aquasecurity/trivy/pkg/scan"
	"github.com/aquasecurity/trivy/pkg/scan/langpkg"
	"github.com/aquasecurity/trivy/pkg/scan/local"
	"github.com/aquasecurity/trivy/pkg/scan/ospkg"
	"github.com/aquasecurity/trivy/pkg/types"
	"github.com/aquasecurity/trivy/pkg/version/app"
	"github.com/aquasecurity/trivy/pkg/vulnerability"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sync/errgroup"
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
		dir = dbclient.Dir(cmp.Or(opts.CacheDir, trivycache.DefaultDir()))
		if err := downloadTrivyDB(ctx, dir); err != nil {
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

// downloadTrivyDB fetches Trivy's database into dir unless the copy there
// is current, from the same registries as the trivy CLI.
func downloadTrivyDB(ctx context.Context, dir string) error {
	var repos []name.Reference
	for _, r := range []string{dbclient.DefaultGCRRepository, dbclient.DefaultGHCRRepository} {
		ref, err := name.NewTag(r)
		if err != nil {
			return err
		}
		repos = append(repos, ref)
	}
	c := dbclient.NewClient(dir, true, dbclient.WithDBRepository(repos))
	need, err := c.NeedsUpdate(ctx, app.Version(), false)
	if err != nil {
		return fmt.Errorf("no Trivy vulnerability database: checking the copy in %s: %w", dir, err)
	}
	if !need {
		return nil
	}
	if err := c.Download(ctx, dir, ftypes.RegistryOptions{}); err != nil {
		return fmt.Errorf("no Trivy vulnerability database: download into %s: %w", dir, err)
	}
	return nil
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

// disabledAnalyzers keeps Trivy to packages and their vulnerabilities, as
// its image command does, and off anything that needs another database or
// the network (Java archives, Rekor, remote SBOMs).
var disabledAnalyzers = func() []analyzer.Type {
	d := append([]analyzer.Type{}, analyzer.TypeLockfiles...)
	d = append(d, analyzer.TypeConfigFiles...)
	return append(d,
		analyzer.TypeApkCommand, analyzer.TypeSecret, analyzer.TypeImageConfigSecret, analyzer.TypeLicenseFile,
		analyzer.TypeJar, analyzer.TypeHistoryDockerfile, analyzer.TypeExecutable,
		analyzer.TypeRpmArchive,
	)
}()

// platformParallelism bounds how many platforms are scanned at once: each
// unpacks its layers and reads the binaries in them, and one scan already
// analyses its layers in parallel.
const platformParallelism = 2

// scanIndex scans every platform of idx, each layer's analysis kept in or
// read from the layer cache in cacheDir (none when empty). Findings come
// in the index's order whatever order the scans finish in; the warnings
// are the layer cache's.
func (d *trivyDB) scanIndex(ctx context.Context, idx v1.ImageIndex, cacheDir string) ([]Finding, []string, error) {
	imgs, err := platformImages(idx)
	if err != nil {
		return nil, nil, err
	}
	c, err := openLayerCache(cacheDir)
	if err != nil {
		return nil, nil, err
	}
	found := make([][]Finding, len(imgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(platformParallelism)
	for i, pi := range imgs {
		g.Go(func() error {
			fs, err := d.scanImage(gctx, pi.platform, pi.img, c)
			if err != nil {
				return fmt.Errorf("trivy: %s: %w", pi.platform, err)
			}
			found[i] = fs
			return nil
		})
	}
	err = g.Wait()
	var warns []string
	if lc, ok := c.(*layerCache); ok {
		warns = lc.warnings()
	}
	if cerr := c.Close(); cerr != nil {
		warns = append(warns, cerr.Error())
	}
	if err != nil {
		return nil, nil, err
	}
	return slices.Concat(found...), warns, nil
}

// scanImage scans one platform's image; c holds the analysis of the
// layers it shares with other platforms and earlier scans.
func (d *trivyDB) scanImage(ctx context.Context, platform string, img v1.Image, c trivycache.Cache) ([]Finding, error) {
	art, err := artimage.NewArtifact(trivyImage{Image: img, name: platform}, c, artifact.Option{
		DisabledAnalyzers: disabledAnalyzers,
		Offline:           true,
		NoProgress:        true,
	})
	if err != nil {
		return nil, err
	}
	backend := local.NewService(applier.NewApplier(c), ospkg.NewScanner(), langpkg.NewScanner(), vulnerability.NewClient(trivydb.Config{}))
	rep, err := trivyscan.NewService(backend, art).ScanArtifact(ctx, types.ScanOptions{
		PkgTypes:            []string{types.PkgTypeOS, types.PkgTypeLibrary},
		PkgRelationships:    ftypes.Relationships, // all; fewer filters packages out
		Scanners:            types.Scanners{types.VulnerabilityScanner},
		VulnSeveritySources: []dbtypes.SourceID{"auto"},
	})
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, r := range rep.Results {
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
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// trivyImage gives a v1.Image the few names Trivy asks an image for.
type trivyImage struct {
	v1.Image
	name string
}

func (i trivyImage) Name() string { return i.name }

func (i trivyImage) ID() (string, error) {
	h, err := i.ConfigName()
	return h.String(), err
}

func (trivyImage) RepoTags() []string    { return nil }
func (trivyImage) RepoDigests() []string { return nil }

// Trivy tells compressed layers from uncompressed ones by reflecting on the
// struct a layer points to, and panics (in a goroutine of its own, beyond
// recover) on a layer that is not a pointer. Every layer is handed over
// behind one.
type layerRef struct{ v1.Layer }

func (i trivyImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDiffID(h)
	if err != nil {
		return nil, err
	}
	return &layerRef{l}, nil
}

func (i trivyImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return &layerRef{l}, nil
}

func (i trivyImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for j, l := range ls {
		out[j] = &layerRef{l}
	}
	return out, nil
}

var _ ftypes.Image = trivyImage{}
