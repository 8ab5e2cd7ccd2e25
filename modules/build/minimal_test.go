package build

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestMinimalDigestStable(t *testing.T) {
	ctx := context.Background()
	a, err := Minimal().Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Minimal().Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("Minimal digests differ between calls: %s, %s", a, b)
	}
	// Assembling it again from scratch, without the cache, gives the same bytes.
	fresh := &minimal{}
	c, err := fresh.Digest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a != c {
		t.Errorf("a freshly assembled minimal base has digest %s, want %s", c, a)
	}
}

func TestMinimalImage(t *testing.T) {
	ctx := context.Background()
	for _, p := range []v1.Platform{amd64, arm64, {OS: "linux", Architecture: "arm", Variant: "v7"}} {
		t.Run(p.String(), func(t *testing.T) {
			img, err := Minimal().Image(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate.Image(img); err != nil {
				t.Fatalf("validate.Image: %v", err)
			}
			mt, err := img.MediaType()
			if err != nil {
				t.Fatal(err)
			}
			if mt != types.OCIManifestSchema1 {
				t.Errorf("media type = %s", mt)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			got := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("platform (-want +got):\n%s", diff)
			}
			if cf.Config.User != "65532" {
				t.Errorf("user = %q", cf.Config.User)
			}
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Minimal().Digest(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(layers) != 1 || digestOf(t, layers[0]) != want {
				t.Errorf("minimal image layers are not the one shared layer %s", want)
			}
		})
	}
}

// TestMinimalContents checks the files come from paved and the toolchain,
// not from the machine that assembled them.
func TestMinimalContents(t *testing.T) {
	ctx := context.Background()
	l, err := theMinimal.getLayer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files := readLayer(t, l)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
		if !f.ModTime.Equal(epoch) || f.Uname != "" || f.Gname != "" {
			t.Errorf("%s: mtime %v, uname %q, gname %q; want epoch and no names", f.Name, f.ModTime, f.Uname, f.Gname)
		}
		if f.Type == '0' && f.Mode != 0o644 {
			t.Errorf("%s: mode %o, want 644", f.Name, f.Mode)
		}
	}
	if !sortedStrings(names) {
		t.Errorf("layer entries are not sorted: %v", names[:10])
	}

	checks := []struct {
		name          string
		mode          int64
		uid, gid      int
		wantInContent string
	}{
		{name: "etc/passwd", mode: 0o644, wantInContent: "nonroot:x:65532:65532:"},
		{name: "etc/group", mode: 0o644, wantInContent: "nonroot:x:65532:"},
		{name: "home/nonroot/", mode: 0o755, uid: nonrootID, gid: nonrootID},
		{name: "tmp/", mode: 0o1777},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, wantInContent: "-----BEGIN CERTIFICATE-----"},
		{name: "usr/share/zoneinfo/Europe/Berlin", mode: 0o644, wantInContent: "TZif"},
	}
	for _, c := range checks {
		f, ok := findFile(files, c.name)
		if !ok {
			t.Errorf("%s missing", c.name)
			continue
		}
		if f.Mode != c.mode || f.Uid != c.uid || f.Gid != c.gid {
			t.Errorf("%s: mode %o uid %d gid %d, want %o %d %d", c.name, f.Mode, f.Uid, f.Gid, c.mode, c.uid, c.gid)
		}
		if !strings.Contains(string(f.data), c.wantInContent) {
			t.Errorf("%s does not contain %q", c.name, c.wantInContent)
		}
	}

	// Only root and nonroot, whoever the host's users are.
	passwd, _ := findFile(files, "etc/passwd")
	if n := strings.Count(string(passwd.data), "\n"); n != 2 {
		t.Errorf("etc/passwd has %d users, want 2:\n%s", n, passwd.data)
	}

	// Every certificate parses, and they are the pinned bundle's.
	ca, _ := findFile(files, "etc/ssl/certs/ca-certificates.crt")
	if !bytes.Equal(ca.data, caBundle()) {
		t.Error("CA file differs from the pinned bundle")
	}
	rest, n := ca.data, 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Errorf("certificate %d: %v", n, err)
		}
		n++
	}
	if n < 50 {
		t.Errorf("CA bundle has %d certificates, want the NSS roots", n)
	}

	// Every zone of the toolchain's database is there, byte for byte.
	zf, err := zoneinfoZip(ctx)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zf)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, z := range zr.File {
		if strings.HasSuffix(z.Name, "/") {
			continue
		}
		f, ok := findFile(files, "usr/share/zoneinfo/"+z.Name)
		if !ok {
			t.Errorf("zone %s missing", z.Name)
			continue
		}
		if uint64(len(f.data)) != z.UncompressedSize64 {
			t.Errorf("zone %s: %d bytes, want %d", z.Name, len(f.data), z.UncompressedSize64)
		}
	}
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if strings.TrimSuffix(s[i-1], "/") > strings.TrimSuffix(s[i], "/") {
			return false
		}
	}
	return true
}
