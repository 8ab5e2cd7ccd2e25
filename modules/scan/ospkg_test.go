package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	dbtypes "github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	bolt "go.etcd.io/bbolt"
)

// Invented advisories on the bases' openssl. Debian's and Alpine's
// advisories name the source package, so the binary packages built from
// it (libssl3) are found only through the source package their database
// names.
const (
	debianCVE    = "CVE-2099-0100"
	alpineCVE    = "CVE-2099-0101"
	opensslOld   = "3.0.11-1~deb12u2"
	opensslFixed = "3.0.99-1"
	apkOld       = "3.1.4-r5"
	apkFixed     = "3.1.99-r0"
)

// osImage is a one-platform index whose one layer holds files.
func osImage(t *testing.T, files map[string]string) v1.ImageIndex {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range slices.Sorted(maps.Keys(files)) {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
}

// addOSAdvisory adds an advisory on package (a source package name) to
// the OS bucket bkt of the Trivy database in dir.
func addOSAdvisory(t *testing.T, dir, bkt string, src dbtypes.SourceID, pkgName, id, fixed string) {
	t.Helper()
	addAdvisory(t, dir, bkt, src, pkgName, id, dbtypes.Advisory{FixedVersion: fixed})
}

// addAdvisory adds a HIGH advisory on pkgName to bucket bkt, whose data
// source is src, of the Trivy database in dir.
func addAdvisory(t *testing.T, dir, bkt string, src dbtypes.SourceID, pkgName, id string, adv dbtypes.Advisory) {
	t.Helper()
	trivyMu.Lock()
	defer trivyMu.Unlock()
	if err := trivydb.Init(filepath.Join(dir, TrivyDBDir)); err != nil {
		t.Fatal(err)
	}
	defer trivydb.Close()
	dbc := trivydb.Config{}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		if err := dbc.PutDataSource(tx, bkt, dbtypes.DataSource{ID: src, Name: string(src)}); err != nil {
			return err
		}
		if err := dbc.PutAdvisory(tx, []string{bkt, pkgName}, id, adv); err != nil {
			return err
		}
		return dbc.PutVulnerability(tx, id, dbtypes.Vulnerability{Title: pkgName + ": test advisory", Severity: "HIGH",
			VendorSeverity: dbtypes.VendorSeverity{src: dbtypes.SeverityHigh}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRunOSPackages scans a Debian and an Alpine system: each advisory,
// filed under the source package as the distributions file them, is found
// on the package of that name and on the binary package built from it,
// with the installed version as the package database gives it; a package
// from another source is not reported.
func TestRunOSPackages(t *testing.T) {
	db := airGapped(t)
	addOSAdvisory(t, db, bucket.NewDebian("12").Name(), vulnerability.Debian, "openssl", debianCVE, opensslFixed)
	addOSAdvisory(t, db, bucket.NewAlpine("3.19").Name(), vulnerability.Alpine, "openssl", alpineCVE, apkFixed)

	dpkg := func(name, source, version string) string {
		s := "Package: " + name + "\nStatus: install ok installed\nPriority: optional\nSection: libs\n" +
			"Installed-Size: 100\nMaintainer: Debian <debian@example.com>\nArchitecture: amd64\n"
		if source != "" {
			s += "Source: " + source + "\n"
		}
		return s + "Version: " + version + "\nDescription: test package\n\n"
	}
	apk := func(name, origin, version string) string {
		return "P:" + name + "\nV:" + version + "\nA:x86_64\nS:100\nI:200\nT:test package\nL:Apache-2.0\no:" + origin + "\n\n"
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"debian", map[string]string{
			"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
			"var/lib/dpkg/status": dpkg("openssl", "", opensslOld) + dpkg("libssl3", "openssl", opensslOld) +
				dpkg("zlib1g", "zlib", "1:1.2.13.dfsg-1"),
		}, []string{
			"trivy linux/amd64 CVE-2099-0100 libssl3 3.0.11-1~deb12u2 3.0.99-1 HIGH",
			"trivy linux/amd64 CVE-2099-0100 openssl 3.0.11-1~deb12u2 3.0.99-1 HIGH",
		}},
		{"alpine", map[string]string{
			"etc/os-release":       "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
			"lib/apk/db/installed": apk("libssl3", "openssl", apkOld) + apk("openssl", "openssl", apkOld) + apk("zlib", "zlib", "1.3.1-r0"),
		}, []string{
			"trivy linux/amd64 CVE-2099-0101 libssl3 3.1.4-r5 3.1.99-r0 HIGH",
			"trivy linux/amd64 CVE-2099-0101 openssl 3.1.4-r5 3.1.99-r0 HIGH",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idx := osImage(t, tc.files)
			rep, err := Run(context.Background(), Input{Index: idx}, Options{DBDir: db, Gate: Gate{Severities: []string{"HIGH"}}})
			if !errors.As(err, new(*GateError)) {
				t.Fatalf("Run: %v, want the gate to fail on HIGH", err)
			}
			if diff := cmp.Diff(tc.want, summarize(rep.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range rep.Findings {
				if !strings.HasPrefix(f.Location, "linux/amd64 ("+tc.name+" ") {
					t.Errorf("%s on %s: location %q, want the platform and distribution", f.ID, f.Package, f.Location)
				}
			}
		})
	}
}

// TestRunSkipsFilesOfOSPackages: a Python package a Debian package
// installed is the Debian package's to answer for, through the
// distribution's advisories, as Trivy's analyzers have it; the same
// package installed by pip beside the application is matched against
// PyPI's.
func TestRunSkipsFilesOfOSPackages(t *testing.T) {
	db := airGapped(t)
	const pipBucket, pipCVE = "pip::GitHub Security Advisory pip", "CVE-2099-0102"
	addAdvisory(t, db, pipBucket, vulnerability.GHSA, "toml", pipCVE,
		dbtypes.Advisory{VulnerableVersions: []string{"<0.10.3"}, PatchedVersions: []string{"0.10.3"}})

	metadata := func(v string) string {
		return "Metadata-Version: 2.1\nName: toml\nVersion: " + v + "\nSummary: Python Library for Tom's Obvious, Minimal Language\n"
	}
	// Debian's copy is another version, so that it would be a finding of
	// its own (findings of one version in two places are one).
	const distMeta = "usr/lib/python3/dist-packages/toml-0.10.1.dist-info/METADATA"
	idx := osImage(t, map[string]string{
		"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
		"var/lib/dpkg/status": "Package: python3-toml\nStatus: install ok installed\nPriority: optional\nSection: python\n" +
			"Installed-Size: 60\nMaintainer: Debian Python Team <team+python@tracker.debian.org>\nArchitecture: all\n" +
			"Source: python-toml\nVersion: 0.10.1-1\nDescription: library for Tom's Obvious, Minimal Language\n\n",
		"var/lib/dpkg/info/python3-toml.list": "/.\n/usr\n/usr/lib\n/usr/lib/python3\n/usr/lib/python3/dist-packages\n" +
			"/usr/lib/python3/dist-packages/toml-0.10.1.dist-info\n/" + distMeta + "\n",
		// Syft reads a package's files from its md5sums, as dpkg -V does.
		"var/lib/dpkg/info/python3-toml.md5sums":  "0f343b0931126a20f133d67c2b018a3b  " + distMeta + "\n",
		distMeta:                                  metadata("0.10.1"),
		"app/deps/toml-0.10.2.dist-info/METADATA": metadata("0.10.2"),
	})
	rep, err := Run(context.Background(), Input{Index: idx}, Options{DBDir: db, Gate: Gate{Severities: []string{"HIGH"}}})
	if !errors.As(err, new(*GateError)) {
		t.Fatalf("Run: %v, want the gate to fail on the pip-installed toml", err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.ID+" "+f.Package+" "+f.Version+" "+f.Location)
	}
	want := []string{pipCVE + " toml 0.10.2 app/deps/toml-0.10.2.dist-info/METADATA"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
