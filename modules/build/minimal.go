package build

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// MinimalName is the name Minimal reports for org.opencontainers.image.base.name.
const MinimalName = "paved.dev/minimal"

const (
	nonrootID   = 65532
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	caFile      = "/etc/ssl/certs/ca-certificates.crt"
)

// epoch is the only timestamp in the minimal base, so its bytes never depend
// on when or where it was assembled.
var epoch = time.Unix(0, 0).UTC()

type minimal struct {
	mu    sync.Mutex
	layer v1.Layer
}

var theMinimal = &minimal{}

// Minimal returns paved's own base: one layer with a CA bundle, root and
// nonroot (65532) users, /home/nonroot, /tmp and time zone data, the same for
// every platform. The CA bundle comes from a pinned Go module and the zone
// data from the Go toolchain, never from the host, so the layer is identical on
// every machine that uses the same paved and Go versions.
func Minimal() Base { return theMinimal }

func (*minimal) Name() string { return MinimalName }

// Digest is the digest of the base layer: it is all the base consists of
// besides the per-platform config.
func (m *minimal) Digest(ctx context.Context) (v1.Hash, error) {
	l, err := m.getLayer(ctx)
	if err != nil {
		return v1.Hash{}, err
	}
	return l.Digest()
}

func (m *minimal) Image(ctx context.Context, p v1.Platform) (v1.Image, error) {
	l, err := m.getLayer(ctx)
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     l,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "paved minimal base", Comment: "ca-certificates, passwd, group, zoneinfo"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = []string{defaultPath, "SSL_CERT_FILE=" + caFile}
	cf.Config.User = fmt.Sprint(nonrootID)
	cf.Config.WorkingDir = "/"
	return mutate.ConfigFile(img, cf)
}

// getLayer builds the layer once; a failure (a cancelled context, a missing
// toolchain) is not cached so a later call can succeed.
func (m *minimal) getLayer(ctx context.Context) (v1.Layer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.layer != nil {
		return m.layer, nil
	}
	entries, err := minimalEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("minimal base: %w", err)
	}
	l, err := newLayer(entries, epoch)
	if err != nil {
		return nil, fmt.Errorf("minimal base: %w", err)
	}
	m.layer = l
	return l, nil
}

func minimalEntries(ctx context.Context) ([]entry, error) {
	zones, err := zoneinfo(ctx)
	if err != nil {
		return nil, err
	}
	entries := []entry{
		{name: caFile, mode: 0o644, data: caBundle()},
		{name: "etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/sbin/nologin\n" +
				"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/os-release", mode: 0o644, data: []byte(
			"ID=paved-minimal\nNAME=\"paved minimal\"\nHOME_URL=\"https://github.com/pavedhq/paved\"\n")},
		{name: "home/nonroot", dir: true, mode: 0o755, uid: nonrootID, gid: nonrootID},
		{name: "root", dir: true, mode: 0o700},
		{name: "tmp", dir: true, mode: 0o1777},
	}
	return append(entries, zones...), nil
}

// caBundle renders the NSS roots as PEM. Roots with extra constraints (a
// distrust-after date) are left out: PEM cannot carry the constraint, and
// trusting them unconditionally would be wider than NSS intends.
func caBundle() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return b.Bytes()
}

// zoneinfo returns the toolchain's time zone database as files under
// usr/share/zoneinfo.
func zoneinfo(ctx context.Context) ([]entry, error) {
	file, err := zoneinfoZip(ctx)
	if err != nil {
		return nil, err
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	defer zr.Close()
	var entries []entry
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		name := path.Clean(f.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("reading %s: unsafe entry %q", file, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %s: %w", file, f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %s: %w", file, f.Name, err)
		}
		entries = append(entries, entry{name: "usr/share/zoneinfo/" + name, mode: 0o644, data: data})
	}
	return entries, nil
}

// zoneinfoZip finds lib/time/zoneinfo.zip in the Go toolchain: the GOROOT
// this program was built with if it is still there, else the `go` on PATH.
func zoneinfoZip(ctx context.Context) (string, error) {
	// runtime.GOROOT is deprecated but, when set, saves running the go command.
	if root := runtime.GOROOT(); root != "" {
		f := filepath.Join(root, "lib", "time", "zoneinfo.zip")
		if _, err := os.Stat(f); err == nil {
			return f, nil
		}
	}
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("finding GOROOT with go env: %w", err)
	}
	f := filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip")
	if _, err := os.Stat(f); err != nil {
		return "", fmt.Errorf("time zone data: %w", err)
	}
	return f, nil
}

// minimalFormat names how minimalEntries lays out the base: change it with
// any change to that function, since Key does not look at the layer itself.
const minimalFormat = "v1"

// Key names the layer's exact content by its inputs (the CA bundle and the
// toolchain's zone data) without assembling and compressing it, which
// costs tens of milliseconds a warm run cannot spare.
func (m *minimal) Key(ctx context.Context) (string, error) {
	file, err := zoneinfoZip(ctx)
	if err != nil {
		return "", fmt.Errorf("minimal base: %w", err)
	}
	zones, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("minimal base: %w", err)
	}
	h := sha256.New()
	h.Write(caBundle())
	fmt.Fprintf(h, "\x00%d\x00", len(zones))
	h.Write(zones)
	return fmt.Sprintf("%s/%s:sha256:%x", MinimalName, minimalFormat, h.Sum(nil)), nil
}
