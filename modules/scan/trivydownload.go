package scan

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// trivyDBRepositories are where the trivy CLI downloads its database from,
// tried in this order: an OCI artifact whose one layer is a gzipped tar of
// trivy.db and metadata.json.
var trivyDBRepositories = []string{
	fmt.Sprintf("mirror.gcr.io/aquasec/trivy-db:%d", trivydb.SchemaVersion),
	fmt.Sprintf("ghcr.io/aquasecurity/trivy-db:%d", trivydb.SchemaVersion),
}

// trivyDBMediaType is the media type of the database layer.
const trivyDBMediaType = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"

// defaultCacheDir is Trivy's own cache directory, so paved and the trivy
// CLI share one downloaded database.
func defaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "trivy"), nil
}

// needsDownload says whether dir lacks a database this Trivy can read that
// is still current: the trivy CLI's rule, which waits for the database's
// next scheduled build, and at least an hour after a download.
func needsDownload(dir string, now time.Time) bool {
	if _, err := os.Stat(trivydb.Path(dir)); err != nil {
		return true
	}
	meta, err := metadata.NewClient(dir).Get()
	if err != nil || meta.Version != trivydb.SchemaVersion || meta.DownloadedAt.IsZero() {
		return true
	}
	return !now.Before(meta.NextUpdate) && !now.Before(meta.DownloadedAt.Add(time.Hour))
}

// downloadTrivyDB fetches Trivy's database into dir unless the copy there
// is current, from the same registries as the trivy CLI.
func downloadTrivyDB(ctx context.Context, dir string, now time.Time) error {
	if !needsDownload(dir, now) {
		return nil
	}
	var errs []error
	for _, repo := range trivyDBRepositories {
		err := pullTrivyDB(ctx, repo, dir, now)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", repo, err))
	}
	return fmt.Errorf("no Trivy vulnerability database: download into %s: %w", dir, errors.Join(errs...))
}

// pullTrivyDB unpacks the database layer of repo into a directory beside
// dir, then puts it in dir's place, so a failed download leaves the old
// copy whole.
func pullTrivyDB(ctx context.Context, repo, dir string, now time.Time) error {
	ref, err := name.ParseReference(repo)
	if err != nil {
		return err
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	var layer *v1.Descriptor
	for i, l := range m.Layers {
		if string(l.MediaType) == trivyDBMediaType {
			layer = &m.Layers[i]
		}
	}
	if layer == nil {
		return fmt.Errorf("no layer of type %s", trivyDBMediaType)
	}
	l, err := img.LayerByDigest(layer.Digest)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()

	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".trivy-db-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := untarDB(rc, tmp); err != nil {
		return err
	}
	if _, err := os.Stat(trivydb.Path(tmp)); err != nil {
		return errors.New("the database layer holds no trivy.db")
	}
	mc := metadata.NewClient(tmp)
	meta, err := mc.Get()
	if err != nil {
		return fmt.Errorf("the database layer's metadata.json: %w", err)
	}
	if meta.Version != trivydb.SchemaVersion {
		return fmt.Errorf("database schema version %d, this Trivy reads version %d", meta.Version, trivydb.SchemaVersion)
	}
	meta.DownloadedAt = now.UTC()
	if err := mc.Update(meta); err != nil {
		return err
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// untarDB writes the regular files of the gzipped tar r into dir: the
// database layer holds trivy.db and metadata.json at its root.
func untarDB(r io.Reader, dir string) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		base := filepath.Base(hdr.Name)
		if base != filepath.Clean(strings.TrimPrefix(hdr.Name, "./")) || (base != "trivy.db" && base != "metadata.json") {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, base), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
