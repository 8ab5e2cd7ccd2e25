package python

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The fixtures under testdata/poetrylock are written by hand in the format
// Poetry writes (poetry is not installed where these tests run): poetry1
// is a Poetry 1.8 project ([tool.poetry.dependencies], lock-version 2.0),
// poetry2 a Poetry 2 one ([project].dependencies, lock-version 2.1 with
// groups and markers).

// hashP is a sha256 hash made of a repeated two-digit pattern.
func hashP(p string) string { return "sha256:" + strings.Repeat(p, 32) }

func hashesP(ps ...string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, hashP(p))
	}
	return out
}

func readPoetryFixture(t testing.TB, name string) (pyproject, lock []byte) {
	t.Helper()
	pyproject, err := os.ReadFile(filepath.Join("testdata", "poetrylock", name, "pyproject.toml"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err = os.ReadFile(filepath.Join("testdata", "poetrylock", name, "poetry.lock"))
	if err != nil {
		t.Fatal(err)
	}
	return pyproject, lock
}

func TestRequirementsFromPoetryLock(t *testing.T) {
	for name, tc := range map[string][]Requirement{
		// requests[socks] pulls pysocks (an optional dependency under an
		// extra marker, which is dropped); tomli's python constraint
		// becomes a marker; click's colorama keeps its marker, not the
		// dev path's (pytest); boto3 (optional), the dev group, the old
		// dev-dependencies and importlib-metadata (not locked: its marker
		// cannot hold on ^3.11) are left out; iniconfig has no hashes but
		// is dev only.
		"poetry1": {
			{Name: "certifi", Version: "2024.8.30", Hashes: hashesP("c1", "c2")},
			{Name: "charset-normalizer", Version: "3.4.0", Hashes: hashesP("c3", "c4", "c5")},
			{Name: "click", Version: "8.1.7", Hashes: hashesP("c6", "c7")},
			{Name: "colorama", Version: "0.4.6", Hashes: hashesP("c8", "c9"), Markers: `platform_system == "Windows"`},
			{Name: "idna", Version: "3.10", Hashes: hashesP("d1", "d2")},
			{Name: "pysocks", Version: "1.7.1", Hashes: hashesP("e3", "e4")},
			{Name: "requests", Version: "2.32.3", Hashes: hashesP("f1", "f2")},
			{Name: "tomli", Version: "2.0.2", Hashes: hashesP("f3", "f4"), Markers: `python_version < "3.12"`},
			{Name: "urllib3", Version: "2.2.3", Hashes: hashesP("f5", "f6")},
		},
		// httpx[http2] pulls h2 and its deps; uvloop keeps the marker
		// of [project].dependencies; typing-extensions is needed always
		// (through pydantic-core) though pydantic asks for it under two
		// markers; pydantic-core comes from a private (legacy) index;
		// the project's s3 extra and the dev group are left out.
		"poetry2": {
			{Name: "annotated-types", Version: "0.7.0", Hashes: hashesP("a1", "a2")},
			{Name: "anyio", Version: "4.6.2.post1", Hashes: hashesP("a3")},
			{Name: "certifi", Version: "2024.8.30", Hashes: hashesP("c1")},
			{Name: "click", Version: "8.1.7", Hashes: hashesP("c6")},
			{Name: "colorama", Version: "0.4.6", Hashes: hashesP("c8"), Markers: `platform_system == "Windows"`},
			{Name: "h11", Version: "0.14.0", Hashes: hashesP("d3")},
			{Name: "h2", Version: "4.1.0", Hashes: hashesP("d4")},
			{Name: "hpack", Version: "4.0.0", Hashes: hashesP("d5")},
			{Name: "httpcore", Version: "1.0.6", Hashes: hashesP("d6")},
			{Name: "httpx", Version: "0.27.2", Hashes: hashesP("d7", "d8")},
			{Name: "hyperframe", Version: "6.0.1", Hashes: hashesP("d9")},
			{Name: "idna", Version: "3.10", Hashes: hashesP("d1")},
			{Name: "pydantic", Version: "2.9.2", Hashes: hashesP("ea", "eb")},
			{Name: "pydantic-core", Version: "2.23.4", Hashes: hashesP("ec", "ed")},
			{Name: "sniffio", Version: "1.3.1", Hashes: hashesP("f7")},
			{Name: "typing-extensions", Version: "4.12.2", Hashes: hashesP("f8")},
			{Name: "uvloop", Version: "0.21.0", Hashes: hashesP("f9", "fa"), Markers: "sys_platform != 'win32'"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			pyproject, lock := readPoetryFixture(t, name)
			checkPoetryOutput(t, pyproject, lock, tc)
		})
	}
}

func checkPoetryOutput(t *testing.T, pyproject, lock []byte, want []Requirement) {
	t.Helper()
	out, err := RequirementsFromPoetryLock(pyproject, lock)
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, out, want)
}

// checkRoundTrip: what a lock is turned into reads back as want.
func checkRoundTrip(t *testing.T, out []byte, want []Requirement) {
	t.Helper()
	got, err := ParseRequirements("requirements.txt", bytes.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i := range got {
		got[i].Line = 0
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s\n%s", d, out)
	}
}

// poetryPkg is a [[package]] of a lock from the index with one file.
func poetryPkg(name, version, hash, rest string) string {
	return "[[package]]\nname = \"" + name + "\"\nversion = \"" + version + "\"\noptional = false\npython-versions = \"*\"\n" +
		"files = [{file = \"" + name + "-" + version + ".tar.gz\", hash = \"" + hash + "\"}]\n" + rest + "\n"
}

const poetryMeta = "[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.9\"\ncontent-hash = \"00\"\n"

func TestRequirementsFromPoetryLockForms(t *testing.T) {
	for name, tc := range map[string]struct {
		pyproject, lock string
		want            []Requirement
	}{
		// A dependency written as a list of constraints, one per Python:
		// either marker will do.
		"constraint list": {
			"[tool.poetry.dependencies]\npython = \"^3.9\"\na = \"*\"\n",
			poetryPkg("a", "1.0", hashP("01"), "[package.dependencies]\nb = [\n    {version = \"<2\", markers = \"python_version < \\\"3.10\\\"\"},\n    {version = \">=2\", markers = \"python_version >= \\\"3.12\\\"\"},\n]") +
				poetryPkg("b", "2.0", hashP("02"), "") + poetryMeta,
			[]Requirement{
				{Name: "a", Version: "1.0", Hashes: hashesP("01")},
				{Name: "b", Version: "2.0", Hashes: hashesP("02"), Markers: `(python_version < "3.10") or (python_version >= "3.12")`},
			},
		},
		// python and markers on a root dependency both hold; a marker
		// joins the one above it along the path.
		"python and markers": {
			"[tool.poetry.dependencies]\npython = \"^3.9\"\na = {version = \"^1.0\", python = \"^3.9\", markers = \"sys_platform == 'linux'\"}\n",
			poetryPkg("a", "1.0", hashP("01"), "[package.dependencies]\nb = {version = \"*\", markers = \"platform_machine == 'x86_64'\"}") +
				poetryPkg("b", "2.0", hashP("02"), "") + poetryMeta,
			[]Requirement{
				{Name: "a", Version: "1.0", Hashes: hashesP("01"), Markers: `(sys_platform == 'linux') and (python_version >= "3.9" and python_version < "4.0")`},
				{Name: "b", Version: "2.0", Hashes: hashesP("02"), Markers: `((sys_platform == 'linux') and (python_version >= "3.9" and python_version < "4.0")) and (platform_machine == 'x86_64')`},
			},
		},
		// Lock 1.1 keeps the hashes in [metadata.files].
		"lock 1.1": {
			"[tool.poetry.dependencies]\npython = \"^3.9\"\nSix = \"^1.16\"\n",
			"[[package]]\nname = \"six\"\nversion = \"1.16.0\"\ndescription = \"\"\ncategory = \"main\"\noptional = false\npython-versions = \">=2.7\"\n\n" +
				"[metadata]\nlock-version = \"1.1\"\npython-versions = \"^3.9\"\ncontent-hash = \"00\"\n\n[metadata.files]\nsix = [\n    {file = \"six-1.16.0-py2.py3-none-any.whl\", hash = \"sha256:" + strings.Repeat("06", 32) + "\"},\n    {file = \"six-1.16.0.tar.gz\", hash = \"sha256:" + strings.Repeat("07", 32) + "\"},\n]\n",
			[]Requirement{{Name: "six", Version: "1.16.0", Hashes: hashesP("06", "07")}},
		},
		// An extra's requirement carries its own marker, and the extra of
		// an extra is followed.
		"extra with markers": {
			"[project]\ndependencies = [\"a[fast]\"]\n",
			poetryPkg("a", "1.0", hashP("01"), "[package.dependencies]\nb = {version = \"*\", optional = true, extras = [\"c\"]}\n\n[package.extras]\nfast = [\"b ; os_name == \\\"posix\\\" and extra == \\\"fast\\\"\"]\nslow = [\"d\"]") +
				poetryPkg("b", "2.0", hashP("02"), "[package.dependencies]\nc = {version = \"*\", optional = true, markers = \"(python_version < \\\"3.12\\\" and extra == \\\"c\\\")\"}\n\n[package.extras]\nc = [\"c\"]") +
				poetryPkg("c", "3.0", hashP("03"), "") + poetryMeta,
			[]Requirement{
				{Name: "a", Version: "1.0", Hashes: hashesP("01")},
				{Name: "b", Version: "2.0", Hashes: hashesP("02"), Markers: `os_name == "posix"`},
				{Name: "c", Version: "3.0", Hashes: hashesP("03"), Markers: `(os_name == "posix") and (python_version < "3.12")`},
			},
		},
		// [project].dependencies are the roots when present: the
		// [tool.poetry.dependencies] entry that only adds a source is
		// not a second root.
		"project and tool.poetry": {
			"[project]\ndependencies = [\"A>=1\"]\n[tool.poetry.dependencies]\nnot-locked = {source = \"internal\"}\n",
			poetryPkg("a", "1.0", hashP("01"), "") + poetryMeta,
			[]Requirement{{Name: "a", Version: "1.0", Hashes: hashesP("01")}},
		},
		"no dependencies": {"[project]\nname = \"job\"\n", poetryMeta, nil},
	} {
		t.Run(name, func(t *testing.T) {
			checkPoetryOutput(t, []byte(tc.pyproject), []byte(tc.lock), tc.want)
		})
	}
}

func TestRequirementsFromPoetryLockRefuses(t *testing.T) {
	const project = "[tool.poetry.dependencies]\npython = \"^3.11\"\ndep = \"^1.0\"\n"
	dep := func(rest string) string { return poetryPkg("dep", "1.0", hashP("ab"), rest) }
	src := func(typ string) string {
		return dep("[package.source]\ntype = \"" + typ + "\"\nurl = \"https://git.example/dep\"\nreference = \"main\"")
	}
	for name, tc := range map[string]struct {
		pyproject, lock, pkg, msg string
	}{
		"no hashes":           {project, "[[package]]\nname = \"dep\"\nversion = \"1.0\"\nfiles = []\n" + poetryMeta, "dep", "no hashes"},
		"git source":          {project, src("git") + poetryMeta, "dep", "git source"},
		"directory source":    {project, src("directory") + poetryMeta, "dep", "directory source"},
		"file source":         {project, src("file") + poetryMeta, "dep", "file source"},
		"url source":          {project, src("url") + poetryMeta, "dep", "url source"},
		"dependency missing":  {project, dep("[package.dependencies]\ngone = \">=2\"") + poetryMeta, "dep", "depends on gone, which the lock does not list"},
		"root missing":        {"[project]\ndependencies = [\"dep\", \"ghost (>=1)\"]\n", dep("") + poetryMeta, "ghost", "the lock does not list"},
		"lock version 3":      {project, dep("") + "[metadata]\nlock-version = \"3.0\"\n", "", "lock version 3.0"},
		"no lock version":     {project, dep(""), "", "lock version none"},
		"malformed lock":      {project, "[[package]\nname = \"dep\"\n", "", "not a lock"},
		"wrong type":          {project, "[[package]]\nname = 3\n" + poetryMeta, "", "not a lock"},
		"malformed pyproject": {"[tool.poetry.dependencies\n", dep("") + poetryMeta, "", "pyproject.toml"},
		"bad hash":            {project, poetryPkg("dep", "1.0", "md5:zz", "") + poetryMeta, "dep", "not sha256"},
		"bad version":         {project, poetryPkg("dep", "1 ; x", hashP("ab"), "") + poetryMeta, "dep", "version"},
		"bad name":            {project, "[[package]]\nname = \"dep\\n--hash\"\nversion = \"1\"\n" + poetryMeta, "", "not a distribution name"},
		"two versions":        {project, dep("") + poetryPkg("dep", "2.0", hashP("cd"), "") + poetryMeta, "dep", "2 versions"},
		"dev group only":      {project, dep("groups = [\"dev\"]") + strings.Replace(poetryMeta, "2.0", "2.1", 1), "dep", "groups dev only"},
		"marker with break":   {"[tool.poetry.dependencies]\ndep = {version = \"*\", markers = \"x\\n--hash=sha256:00\"}\n", dep("") + poetryMeta, "dep", "marker"},
		"extra in an or":      {project, dep("[package.dependencies]\nb = {version = \"*\", markers = \"extra == \\\"x\\\" or os_name == \\\"nt\\\"\"}") + poetryPkg("b", "1.0", hashP("cd"), "") + poetryMeta, "b", "or"},
		"python constraint":   {"[tool.poetry.dependencies]\ndep = {version = \"*\", python = \">=3.9 || banana\"}\n", dep("") + poetryMeta, "dep", "python"},
		"markers not text":    {project, dep("markers = 3") + poetryMeta, "dep", "markers"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := RequirementsFromPoetryLock([]byte(tc.pyproject), []byte(tc.lock))
			var pe *PoetryLockError
			if !errors.As(err, &pe) || pe.Package != tc.pkg || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "poetry.lock") {
				t.Fatalf("got %v (%q), want a poetry.lock error for package %q with %q", err, out, tc.pkg, tc.msg)
			}
		})
	}
}

func TestPythonMarker(t *testing.T) {
	for c, want := range map[string]string{
		"*":              "",
		"^3.9":           `python_version >= "3.9" and python_version < "4.0"`,
		"^0.2":           `python_version >= "0.2" and python_version < "0.3"`,
		"~3.9":           `python_version >= "3.9" and python_version < "3.10"`,
		"~=3.9.1":        `python_full_version >= "3.9.1" and python_version < "3.10"`,
		">=3.9,<3.12":    `python_version >= "3.9" and python_version < "3.12"`,
		">=3.9 <3.12":    `python_version >= "3.9" and python_version < "3.12"`,
		"3.11.*":         `python_version >= "3.11" and python_version < "3.12"`,
		"3.11":           `python_version == "3.11"`,
		"<3.8 || >=3.11": `(python_version < "3.8") or (python_version >= "3.11")`,
		">=3.8 || *":     "",
	} {
		got, err := pythonMarker(c)
		if err != nil || got != want {
			t.Errorf("pythonMarker(%q) = %q, %v; want %q", c, got, err, want)
		}
	}
	for _, c := range []string{"banana", ">=3.9 ||| <3", "~=3", ">3.*"} {
		if got, err := pythonMarker(c); err == nil {
			t.Errorf("pythonMarker(%q) = %q, want an error", c, got)
		}
	}
}

func FuzzPoetryLock(f *testing.F) {
	for _, n := range []string{"poetry1", "poetry2"} {
		pyproject, lock := readPoetryFixture(f, n)
		f.Add(pyproject, lock)
	}
	f.Fuzz(func(t *testing.T, pyproject, lock []byte) {
		out, err := RequirementsFromPoetryLock(pyproject, lock)
		if err != nil {
			var pe *PoetryLockError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PoetryLockError", err)
			}
			return
		}
		checkPinnedAndHashed(t, out)
	})
}
