package python

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func hashN(d string) string { return "sha256:" + strings.Repeat(d, 64) }

func TestRequirementsFromUVLock(t *testing.T) {
	for name, tc := range map[string][]Requirement{
		// Dev deps (pytest, and its git-sourced iniconfig) and the
		// project's extra (unrelated) are left out; charset-normalizer
		// comes in through requests; both hashes of a wheel-only package.
		"closure.lock": {
			{Name: "charset-normalizer", Version: "3.4.0", Hashes: []string{hashN("3"), hashN("4")}},
			{Name: "colorama", Version: "0.4.6", Hashes: []string{hashN("5")}, Markers: "sys_platform == 'win32'"},
			{Name: "requests", Version: "2.32.3", Hashes: []string{hashN("2"), hashN("1")}},
		},
		// Markers join along a path and either path will do; an sdist-only
		// package; a dependency's extra pulls in its optional deps.
		"markers.lock": {
			{Name: "a", Version: "1.0", Hashes: []string{hashN("1")}, Markers: "sys_platform == 'linux'"},
			{Name: "b", Version: "1.0", Hashes: []string{hashN("2")}},
			{Name: "c", Version: "1.0", Hashes: []string{hashN("3")}, Markers: "((python_version < '3.12') and (sys_platform == 'linux')) or (platform_machine == 'x86_64')"},
			{Name: "d", Version: "1.0", Hashes: []string{hashN("4")}},
			{Name: "h2", Version: "4.1.0", Hashes: []string{hashN("6")}},
			{Name: "httpx", Version: "0.27.0", Hashes: []string{hashN("5")}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "uvlock", name))
			if err != nil {
				t.Fatal(err)
			}
			out, err := RequirementsFromUVLock(b)
			if err != nil {
				t.Fatal(err)
			}
			checkRoundTrip(t, out, tc)
		})
	}
}

func TestRequirementsFromUVLockRefuses(t *testing.T) {
	const project = "[[package]]\nname = \"job\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"dep\" }]\n\n"
	dep := func(extra string) string {
		return "[[package]]\nname = \"dep\"\nversion = \"1.0\"\n" + extra + "\n"
	}
	const reg = "source = { registry = \"https://pypi.org/simple\" }\n"
	const wheel = "wheels = [{ url = \"https://files.example/dep.whl\", hash = \"sha256:ab\" }]\n"
	for name, tc := range map[string]struct {
		lock, pkg, msg string
	}{
		"no hashes":         {"version = 1\n" + project + dep(reg), "dep", "no hashes"},
		"git source":        {"version = 1\n" + project + dep("source = { git = \"https://git.example/dep?rev=1#1\" }\n"+wheel), "dep", "git source"},
		"path source":       {"version = 1\n" + project + dep("source = { path = \"dist/dep-1.0.whl\" }\n"+wheel), "dep", "path source"},
		"directory source":  {"version = 1\n" + project + dep("source = { directory = \"../dep\" }\n"), "dep", "directory source"},
		"url source":        {"version = 1\n" + project + dep("source = { url = \"https://files.example/dep.tar.gz\" }\n"+wheel), "dep", "url source"},
		"other workspace":   {"version = 1\n" + project + dep("source = { editable = \"packages/dep\" }\n"), "dep", "editable source"},
		"lock version 2":    {"version = 2\n" + project + dep(reg+wheel), "", "lock version 2"},
		"no lock version":   {project + dep(reg+wheel), "", "lock version none"},
		"malformed":         {"version = 1\n[[package]\nname = \"job\"\n", "", "not a lock"},
		"wrong type":        {"version = 1\n[[package]]\nname = 3\n", "", "not a lock"},
		"no project":        {"version = 1\n" + dep(reg+wheel), "", "no package is the project"},
		"missing dep":       {"version = 1\n" + project, "job", "does not list"},
		"bad hash":          {"version = 1\n" + project + dep(reg+"wheels = [{ hash = \"md5:zz\" }]\n"), "dep", "not sha256"},
		"bad name":          {"version = 1\n" + project + "[[package]]\nname = \"dep\\n--hash\"\nversion = \"1\"\n", "", "not a distribution name"},
		"bad version":       {"version = 1\n" + project + "[[package]]\nname = \"dep\"\nversion = \"1 ; x\"\n" + reg + wheel, "dep", "version"},
		"marker with break": {"version = 1\n[[package]]\nname = \"job\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [{ name = \"dep\", marker = \"x\\n--hash=sha256:00\" }]\n" + dep(reg+wheel), "dep", "marker"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := RequirementsFromUVLock([]byte(tc.lock))
			var ue *UVLockError
			if !errors.As(err, &ue) || ue.Package != tc.pkg || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "uv.lock") {
				t.Fatalf("got %v (%q), want a uv.lock error for package %q with %q", err, out, tc.pkg, tc.msg)
			}
		})
	}
}

func FuzzUVLock(f *testing.F) {
	for _, n := range []string{"closure.lock", "markers.lock"} {
		b, err := os.ReadFile(filepath.Join("testdata", "uvlock", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := RequirementsFromUVLock(b)
		if err != nil {
			return
		}
		checkPinnedAndHashed(t, out)
	})
}

// checkPinnedAndHashed: what a lock is turned into parses as requirements,
// each pinned and hashed, as pip's hash-checking mode needs.
func checkPinnedAndHashed(t *testing.T, out []byte) {
	t.Helper()
	reqs, err := ParseRequirements("requirements.txt", bytes.NewReader(out))
	if err != nil {
		t.Fatalf("written requirements do not parse: %v\n%s", err, out)
	}
	for _, r := range reqs {
		if r.Version == "" || len(r.Hashes) == 0 {
			t.Fatalf("%s is not pinned and hashed\n%s", r.Name, out)
		}
	}
}
