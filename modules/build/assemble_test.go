package build

import (
	"archive/tar"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// elfHeader is the start of an ELF file for the given e_machine: enough
// for the native-code check, which reads no further.
func elfHeader(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF\x02\x01\x01")
	binary.LittleEndian.PutUint16(h[16:], 3) // ET_DYN
	binary.LittleEndian.PutUint16(h[18:], machine)
	return h
}

const (
	machineAMD64 = 62
	machineARM64 = 183
)

func writeFiles(t *testing.T, root string, files map[string]string) string {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.Contains("/"+name, "/bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// nodeService lays out a service as the ts-service path does: production
// dependencies in one directory, the compiled application in another.
func nodeService(t *testing.T) (deps, app string) {
	t.Helper()
	root := t.TempDir()
	deps = writeFiles(t, filepath.Join(root, "deps"), map[string]string{
		"node_modules/left-pad/package.json":        `{"name":"left-pad","version":"1.3.0"}`,
		"node_modules/left-pad/index.js":            "module.exports = s => s\n",
		"node_modules/@scope/util/package.json":     `{"name":"@scope/util","version":"2.0.0"}`,
		"node_modules/@scope/util/bin/cli.js":       "#!/usr/bin/env node\n",
		"node_modules/.package-lock.json":           "{}",
		"node_modules/@scope/util/lib/nested/x.txt": "x",
	})
	if err := os.Symlink("../@scope/util/bin/cli.js", filepath.Join(deps, "node_modules", ".bin-util")); err != nil {
		t.Fatal(err)
	}
	app = writeFiles(t, filepath.Join(root, "app"), map[string]string{
		"dist/server.js": "console.log('v1')\n",
		"package.json":   `{"name":"svc","version":"1.0.0"}`,
	})
	return deps, app
}

func nodeAssembly(deps, app string) Assembly {
	return Assembly{
		Platforms: []v1.Platform{amd64, arm64},
		Layers: []Layer{
			{Name: "dependencies", Trees: []Tree{{Src: deps, Dest: "/app"}}},
			{Name: "application", Trees: []Tree{{Src: app, Dest: "/app"}},
				Files: []File{{Path: "/app/VERSION", Data: []byte("1\n")}}},
		},
		Entrypoint:  []string{"/usr/bin/node", "/app/dist/server.js"},
		WorkingDir:  "/app",
		Env:         []string{"NODE_ENV=production", "PATH=/usr/local/bin:/usr/bin:/bin"},
		Created:     time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Annotations: map[string]string{"org.opencontainers.image.source": "https://example.com/svc", "org.opencontainers.image.revision": "abc"},
	}
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range ls {
		out = append(out, digestOf(t, l))
	}
	return out
}

func TestAssembleImage(t *testing.T) {
	ctx := context.Background()
	deps, app := nodeService(t)
	a := nodeAssembly(deps, app)
	idx, err := Assemble(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, idx)
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 || im.Manifests[0].Platform.String() != "linux/amd64" || im.Manifests[1].Platform.String() != "linux/arm64" {
		t.Fatalf("manifests: %+v", im.Manifests)
	}
	for _, k := range []string{"org.opencontainers.image.source", "org.opencontainers.image.revision", AnnotationCreated, AnnotationBaseName, AnnotationBaseDigest} {
		if im.Annotations[k] == "" {
			t.Errorf("index annotation %s missing: %v", k, im.Annotations)
		}
	}
	if im.Annotations[AnnotationCreated] != "2026-05-01T12:00:00Z" || im.Annotations[AnnotationBaseName] != MinimalName {
		t.Errorf("annotations %v", im.Annotations)
	}

	amd, arm := imageFor(t, idx, amd64), imageFor(t, idx, arm64)
	// The shared layers are the same blobs on every platform.
	da, dr := layerDigests(t, amd), layerDigests(t, arm)
	if len(da) != 3 || da[1] != dr[1] || da[2] != dr[2] {
		t.Fatalf("layers amd64 %v, arm64 %v: want base + 2 shared", da, dr)
	}

	cf, err := amd.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if strings.Join(c.Entrypoint, " ") != "/usr/bin/node /app/dist/server.js" || c.User != "65532:65532" || c.WorkingDir != "/app" {
		t.Errorf("config entrypoint %q user %q workdir %q", c.Entrypoint, c.User, c.WorkingDir)
	}
	env := strings.Join(c.Env, " ")
	if !strings.Contains(env, "NODE_ENV=production") || strings.Count(env, "PATH=") != 1 || !strings.Contains(env, "PATH=/usr/local/bin:/usr/bin:/bin") {
		t.Errorf("env %q: want NODE_ENV and the caller's PATH in place of the base's", c.Env)
	}
	if c.Labels["org.opencontainers.image.revision"] != "abc" {
		t.Errorf("labels %v", c.Labels)
	}
	if cf.Architecture != "amd64" || !cf.Created.Time.Equal(a.Created) {
		t.Errorf("config arch %s created %v", cf.Architecture, cf.Created)
	}
	var comments []string
	for _, h := range cf.History {
		comments = append(comments, h.Comment)
		if !h.Created.Time.Equal(a.Created) {
			t.Errorf("history %q created %v", h.Comment, h.Created)
		}
	}
	if got := strings.Join(comments[len(comments)-2:], ","); got != "dependencies,application" {
		t.Errorf("history comments %v", comments)
	}

	ls, _ := amd.Layers()
	depFiles := readLayer(t, ls[1])
	for _, f := range depFiles {
		if f.Uid != 0 || f.Gid != 0 || f.Uname != "" || !f.ModTime.Equal(a.Created) {
			t.Errorf("%s: uid %d gid %d uname %q mtime %v", f.Name, f.Uid, f.Gid, f.Uname, f.ModTime)
		}
	}
	if f, ok := findFile(depFiles, "app/node_modules/.bin-util"); !ok || f.Type != tar.TypeSymlink {
		t.Errorf("symlink missing or not a link: %+v", f)
	}
	if f, ok := findFile(depFiles, "app/node_modules/@scope/util/bin/cli.js"); !ok || f.Mode != 0o755 {
		t.Errorf("executable: %+v", f)
	}
	if f, ok := findFile(depFiles, "app/node_modules/left-pad/index.js"); !ok || f.Mode != 0o644 || string(f.data) != "module.exports = s => s\n" {
		t.Errorf("file: %+v", f)
	}
	if _, ok := findFile(depFiles, "app/dist/server.js"); ok {
		t.Error("the application is in the dependencies layer")
	}
	appFiles := readLayer(t, ls[2])
	if f, ok := findFile(appFiles, "app/VERSION"); !ok || string(f.data) != "1\n" {
		t.Errorf("VERSION: %+v", f)
	}
	var names []string
	for _, f := range appFiles {
		names = append(names, f.Name)
	}
	if !sortedStrings(names) {
		t.Errorf("entries not sorted: %v", names)
	}
}

// The same files give the same digest whatever their times on disk; a
// change to the application changes its layer only.
func TestAssembleReproducibleAndLayered(t *testing.T) {
	ctx := context.Background()
	deps, app := nodeService(t)
	first, err := Assemble(ctx, nodeAssembly(deps, app))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	filepath.Walk(deps, func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, old, old); return nil })
	os.Chmod(filepath.Join(app, "package.json"), 0o600)
	again, err := Assemble(ctx, nodeAssembly(deps, app))
	if err != nil {
		t.Fatal(err)
	}
	if digestOf(t, first) != digestOf(t, again) {
		t.Fatalf("digest changed with file times and umask: %s then %s", digestOf(t, first), digestOf(t, again))
	}

	os.WriteFile(filepath.Join(app, "dist", "server.js"), []byte("console.log('v2')\n"), 0o644)
	changed, err := Assemble(ctx, nodeAssembly(deps, app))
	if err != nil {
		t.Fatal(err)
	}
	before, after := layerDigests(t, imageFor(t, first, amd64)), layerDigests(t, imageFor(t, changed, amd64))
	if before[0] != after[0] || before[1] != after[1] || before[2] == after[2] {
		t.Fatalf("layers before %v after %v: want only the application's to change", before, after)
	}
}

func TestAssembleNativeCode(t *testing.T) {
	ctx := context.Background()
	deps, app := nodeService(t)
	bcrypt := filepath.Join(deps, "node_modules", "bcrypt", "build", "Release", "bcrypt_lib.node")
	os.MkdirAll(filepath.Dir(bcrypt), 0o755)
	os.WriteFile(bcrypt, elfHeader(machineAMD64), 0o755)

	_, err := Assemble(ctx, nodeAssembly(deps, app))
	var ne *NativeCodeError
	if !errors.As(err, &ne) {
		t.Fatalf("Assemble = %v, want a NativeCodeError", err)
	}
	if ne.Package != "bcrypt" || ne.File != "/app/node_modules/bcrypt/build/Release/bcrypt_lib.node" || strings.Join(ne.Have, ",") != "amd64" {
		t.Errorf("error %+v", ne)
	}
	for _, want := range []string{"bcrypt", "bcrypt_lib.node", "amd64", "linux/arm64", "--platform"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// For its own architecture alone, the package is fine...
	one := nodeAssembly(deps, app)
	one.Platforms = []v1.Platform{amd64}
	if _, err := Assemble(ctx, one); err != nil {
		t.Errorf("amd64 only: %v", err)
	}
	// ...and for another alone it is not.
	one.Platforms = []v1.Platform{arm64}
	if _, err := Assemble(ctx, one); !errors.As(err, &ne) {
		t.Errorf("arm64 only: %v, want a NativeCodeError", err)
	}

	// A package with a prebuild per architecture runs everywhere.
	os.Remove(bcrypt)
	for dir, m := range map[string]uint16{"linux-x64": machineAMD64, "linux-arm64": machineARM64} {
		p := filepath.Join(deps, "node_modules", "@scope", "fast", "prebuilds", dir, "fast.node")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, elfHeader(m), 0o644)
	}
	if _, err := Assemble(ctx, nodeAssembly(deps, app)); err != nil {
		t.Errorf("prebuilds for both: %v", err)
	}
	os.Remove(filepath.Join(deps, "node_modules", "@scope", "fast", "prebuilds", "linux-arm64", "fast.node"))
	if _, err := Assemble(ctx, nodeAssembly(deps, app)); !errors.As(err, &ne) || ne.Package != "@scope/fast" {
		t.Errorf("prebuild for amd64 only: %v, want a NativeCodeError naming @scope/fast", err)
	}
}

// A layer for one platform goes into that platform's image only, and
// its native code must be for it.
func TestAssemblePlatformLayer(t *testing.T) {
	ctx := context.Background()
	a := Assembly{
		Platforms: []v1.Platform{amd64, arm64},
		Layers: []Layer{
			{Name: "server amd64", Platform: &amd64, Files: []File{{Path: "/srv/server", Data: elfHeader(machineAMD64), Mode: 0o755}}},
			{Name: "server arm64", Platform: &arm64, Files: []File{{Path: "/srv/server", Data: elfHeader(machineARM64), Mode: 0o755}}},
			{Name: "site", Files: []File{{Path: "/srv/www/index.html", Data: []byte("<h1>hi</h1>")}}},
		},
		Entrypoint: []string{"/srv/server"},
	}
	idx, err := Assemble(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	mustValidateIndex(t, idx)
	for _, pm := range []struct {
		p       v1.Platform
		machine uint16
	}{{amd64, machineAMD64}, {arm64, machineARM64}} {
		p, machine := pm.p, pm.machine
		img := imageFor(t, idx, p)
		ls, _ := img.Layers()
		if len(ls) != 3 {
			t.Fatalf("%s: %d layers, want base, server, site", p.String(), len(ls))
		}
		f, ok := findFile(readLayer(t, ls[1]), "srv/server")
		if !ok || binary.LittleEndian.Uint16(f.data[18:]) != machine || f.Mode != 0o755 {
			t.Errorf("%s: server %+v", p.String(), f)
		}
	}
	a.Layers[1].Files[0].Data = elfHeader(machineAMD64)
	var ne *NativeCodeError
	if _, err := Assemble(ctx, a); !errors.As(err, &ne) {
		t.Errorf("an amd64 binary in the arm64 layer: %v, want a NativeCodeError", err)
	}
}

func TestAssembleErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		a    Assembly
		want string
	}{
		"no entrypoint":    {Assembly{}, "entrypoint"},
		"missing tree":     {Assembly{Entrypoint: []string{"/x"}, Layers: []Layer{{Name: "deps", Trees: []Tree{{Src: filepath.Join(dir, "nope"), Dest: "/app"}}}}}, "nope"},
		"relative dest":    {Assembly{Entrypoint: []string{"/x"}, Layers: []Layer{{Name: "deps", Trees: []Tree{{Src: dir, Dest: "app"}}}}}, `"app"`},
		"relative file":    {Assembly{Entrypoint: []string{"/x"}, Layers: []Layer{{Name: "app", Files: []File{{Path: "x", Data: nil}}}}}, `"x"`},
		"root as a file":   {Assembly{Entrypoint: []string{"/x"}, Layers: []Layer{{Name: "app", Files: []File{{Path: "/"}}}}}, "invalid layer path"},
		"unnamed layer":    {Assembly{Entrypoint: []string{"/x"}, Layers: []Layer{{}}}, "name"},
		"bad env":          {Assembly{Entrypoint: []string{"/x"}, Env: []string{"NOEQUALS"}}, "NOEQUALS"},
		"twice a platform": {Assembly{Entrypoint: []string{"/x"}, Platforms: []v1.Platform{amd64, amd64}}, "twice"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Assemble(ctx, tc.a)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Assemble = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestPackageOf(t *testing.T) {
	for file, want := range map[string]string{
		"/app/node_modules/bcrypt/build/Release/bcrypt_lib.node":                    "bcrypt",
		"/app/node_modules/@img/sharp-linux-x64/lib/sharp.node":                     "@img/sharp-linux-x64",
		"/app/node_modules/a/node_modules/b/b.node":                                 "b",
		"/app/node_modules/@scope":                                                  "@scope",
		"/app/lib/python3.12/site-packages/numpy/core/_multiarray.so":               "numpy",
		"/app/lib/python3.12/site-packages/numpy.libs/libgfortran.so.5":             "numpy",
		"/app/site-packages/_cffi_backend.cpython-312-x86_64-linux-gnu.so":          "_cffi_backend",
		"/usr/lib/python3/dist-packages/yaml/_yaml.cpython-311-x86_64-linux-gnu.so": "yaml",
		"/app/bin/tool": "/app/bin",
	} {
		if got := packageOf(file); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", file, got, want)
		}
	}
}

func TestParseELFHead(t *testing.T) {
	for name, tc := range map[string]struct {
		head []byte
		arch string
		elf  bool
	}{
		"amd64":  {elfHeader(machineAMD64), "amd64", true},
		"arm64":  {elfHeader(machineARM64), "arm64", true},
		"s390x":  {append([]byte("\x7fELF\x02\x02\x01"), append(make([]byte, 11), 0, 22)...), "s390x", true},
		"script": {[]byte("#!/bin/sh\necho hello world\n"), "", false},
		"short":  {[]byte("\x7fELF"), "", false},
	} {
		arch, ok, err := parseELFHead(tc.head)
		if err != nil || ok != tc.elf || arch != tc.arch {
			t.Errorf("%s: %q %v %v, want %q %v", name, arch, ok, err, tc.arch, tc.elf)
		}
	}
}

func FuzzParseELFHead(f *testing.F) {
	f.Add(elfHeader(machineAMD64))
	f.Add([]byte("\x7fELF\x01\x02"))
	f.Add([]byte("not elf at all, not at all"))
	f.Fuzz(func(t *testing.T, b []byte) {
		arch, ok, err := parseELFHead(b)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (len(b) >= 20 && strings.HasPrefix(string(b), "\x7fELF")) || (ok && arch == "") {
			t.Fatalf("parseELFHead(%q) = %q, %v", b, arch, ok)
		}
	})
}

func FuzzPackageOf(f *testing.F) {
	f.Add("/app/node_modules/@a/b/c.node")
	f.Add("/x/site-packages/y.so")
	f.Add("node_modules/")
	f.Fuzz(func(t *testing.T, s string) {
		if packageOf(s) == "" && strings.Trim(s, "/") != "" {
			t.Fatalf("packageOf(%q) is empty", s)
		}
	})
}
