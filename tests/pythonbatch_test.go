package tests

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"

	"github.com/pavedhq/paved/internal/testtools/ci"
	"github.com/pavedhq/paved/internal/testtools/hostbase"
	"github.com/pavedhq/paved/internal/testtools/testfs"
)

// The python-batch tests run pip and pytest with Debian's python3
// (python3-pytest, python3-pytest-cov, python3-pip; .ci/run installs them),
// or the interpreter $PAVED_PYTHON names: the python3 on PATH may be
// another one without them. The example's dependencies come from its own
// wheels/ directory, so no package index is needed.

// pythonEnv is the environment that points paved at that interpreter.
func pythonEnv(t *testing.T) []string {
	t.Helper()
	py := os.Getenv("PAVED_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	out, err := exec.Command(py, "-c", "import pytest, pytest_cov, pip").CombinedOutput()
	if err != nil {
		ci.Unavailable(t, "%s cannot run pip and pytest with coverage (apt-get install python3-pytest python3-pytest-cov python3-pip): %v\n%s", py, err, out)
	}
	return []string{"PAVED_PYTHON=" + py}
}

// copyPythonExample copies examples/python-batch (without run outputs).
func copyPythonExample(t *testing.T) string {
	t.Helper()
	return testfs.CopyTree(t, "../examples/python-batch", filepath.Join(t.TempDir(), "python-batch"))
}

// pythonBase is a Python base made of Debian's python3 and its standard
// library (internal/testtools/hostbase), for this machine's platform.
func pythonBase(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])").Output()
	if err != nil {
		ci.Unavailable(t, "no /usr/bin/python3 to make a base of: %v", err)
	}
	return hostbase.Layout(t, "/usr/bin/python3", strings.TrimSpace(string(out)))
}

// readCronJob decodes the run's CronJob strictly with Kubernetes' types.
func readCronJob(t *testing.T, src string) batchv1.CronJob {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(src, ".paved", "manifests", "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cj batchv1.CronJob
	if err := yaml.UnmarshalStrict(b, &cj); err != nil {
		t.Fatalf("the CronJob does not decode as batch/v1: %v\n%s", err, b)
	}
	return cj
}

// With nothing but the source (and the interpreter), the path runs
// offline on its defaults, twice to the same digest, and writes the
// CronJob for that digest.
func TestPythonBatchDefaults(t *testing.T) {
	env := pythonEnv(t)
	src := copyPythonExample(t)
	first, stderr := runToLayout(t, env, "python-batch", src)
	if !strings.Contains(stderr, "pin a Python base image by digest for production") {
		t.Errorf("no warning about the host's Python:\n%s", stderr)
	}
	cj := readCronJob(t, src)
	_, digest, _ := strings.Cut(first, "@")
	if img := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image; img != "nightly-report@"+digest {
		t.Errorf("the CronJob runs %q, want the image by its digest %s", img, digest)
	}
	if cj.Spec.Schedule != "30 2 * * *" || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || *cj.Spec.JobTemplate.Spec.BackoffLimit != 2 {
		t.Errorf("CronJob spec %+v", cj.Spec)
	}
	os.RemoveAll(filepath.Join(src, ".paved"))
	again, _ := runToLayout(t, env, "python-batch", src)
	if first != again {
		t.Fatalf("digests differ between runs: %s then %s", first, again)
	}
}

// The whole path against a real registry with a key, on a Python base
// made from the host: the cosign CLI verifies the signature and the
// attestations, the SBOM lists the Python dependencies, the extracted
// image's job runs to completion, the CronJob names the published digest,
// and a one-line change uploads only the job's layer.
func TestPythonBatchToRegistry(t *testing.T) {
	env := pythonEnv(t)
	sg := newSigner(t)
	src := copyPythonExample(t)
	base := pythonBase(t)
	run, report, up := runToRegistry(t, sg, env, "python-batch", src, base, "data/nightly-report")
	ref := run().lastLine()
	up.take()

	sg.verify(t, ref)
	t.Run("SBOM lists the Python dependencies", func(t *testing.T) {
		rep := readReport(t, report)
		sboms := imageSBOMs(t, rep)
		for p, sbom := range sboms {
			for _, purl := range []string{"pkg:pypi/six@1.16.0", "pkg:pypi/toml@0.10.2"} {
				if !strings.Contains(sbom, purl) {
					t.Errorf("the image SBOM %s does not list %s", p, purl)
				}
			}
		}
		if len(sboms) < 2 {
			t.Fatalf("%d image SBOMs in the report: %+v", len(sboms), rep.SBOM)
		}
	})

	digest, err := name.NewDigest(ref)
	if err != nil {
		t.Fatal(err)
	}
	img := pulledImage(t, ref)
	t.Run("the extracted image's job runs to completion", func(t *testing.T) {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		c := cf.Config
		if strings.Join(c.Entrypoint, " ") != "python3 -m job" || c.User != "65532:65532" || c.WorkingDir != "/app" {
			t.Errorf("entrypoint %q, user %q, working dir %q", c.Entrypoint, c.User, c.WorkingDir)
		}
		var pythonPath string
		for _, kv := range c.Env {
			if v, ok := strings.CutPrefix(kv, "PYTHONPATH="); ok {
				pythonPath = v
			}
		}
		if pythonPath != "/app:/app/site-packages" {
			t.Errorf("PYTHONPATH %q", pythonPath)
		}
		root := extract(t, img)
		// The image's python, its standard library and the job's files,
		// relocated under root: no chroot, the host's loader.
		cmd := exec.Command(filepath.Join(root, "usr/bin/python3"), c.Entrypoint[1:]...)
		cmd.Dir = filepath.Join(root, "app")
		cmd.Env = []string{"PYTHONHOME=" + filepath.Join(root, "usr"), "PYTHONPATH=" + filepath.Join(root, "app") + ":" + filepath.Join(root, "app/site-packages"),
			"PYTHONDONTWRITEBYTECODE=1", "PYTHONNOUSERSITE=1"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the job failed: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "Orders by region") || !strings.Contains(string(out), "north        150.75 EUR") {
			t.Errorf("the job printed:\n%s", out)
		}
	})
	t.Run("the CronJob runs the published digest", func(t *testing.T) {
		cj := readCronJob(t, src)
		c := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		if c.Image != digest.Context().Name()+"@"+digest.DigestStr() {
			t.Errorf("CronJob image %q, published %s", c.Image, ref)
		}
		if q := c.Resources.Limits.Memory(); q.String() != "128Mi" {
			t.Errorf("memory limit %s", q)
		}
	})
	t.Run("a one-line change uploads only the job's layer", func(t *testing.T) {
		replaceInFile(t, filepath.Join(src, "job", "report.py"), "# The day's orders;", "# Today's orders;")
		ref2 := run().lastLine()
		if ref2 == ref {
			t.Fatal("the change did not change the image")
		}
		uploaded := up.take()
		layers, err := pulledImage(t, ref2).Layers()
		if err != nil {
			t.Fatal(err)
		}
		var sent []v1.Hash
		for i, l := range layers {
			d, _ := l.Digest()
			if uploaded[d.String()] {
				sent = append(sent, d)
				if i != len(layers)-1 {
					t.Errorf("layer %d of %d (%s) was uploaded again", i+1, len(layers), d)
				}
			}
		}
		if len(sent) != 1 {
			t.Errorf("%d of the image's %d layers were uploaded, want the job's alone: %v", len(sent), len(layers), uploaded)
		}
	})
}

// pythonVulnDB is an offline database with an invented CRITICAL advisory,
// with a fix, for the toml version the example pins.
func pythonVulnDB(t *testing.T) string {
	t.Helper()
	return advisoryDB(t, `[{"id":"CVE-2099-5151","ecosystem":"pip","module":"toml","affected":"<0.10.3","fixed":"0.10.3",
		"severity":"CRITICAL","title":"toml: invented advisory for paved's tests"}]`)
}

// A held vulnerable Python package fails the scan gate, offline, and
// nothing is published.
func TestPythonBatchScanGate(t *testing.T) {
	env := pythonEnv(t)
	src := copyPythonExample(t)
	r := paved(t, env, "run", "python-batch", "--source", src, "--cache-dir", t.TempDir(), "--vuln-db", pythonVulnDB(t))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "CVE-2099-5151") || !strings.Contains(r.stderr, "toml") {
		t.Errorf("the failure does not name the finding:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(src, ".paved", "image", "index.json")); err == nil {
		t.Error("the image was published despite the gate")
	}
}

func TestPythonBatchFailingTestNamesIt(t *testing.T) {
	env := pythonEnv(t)
	src := copyPythonExample(t)
	replaceInFile(t, filepath.Join(src, "tests", "test_report.py"), `assert settings()["currency"] == "EUR"`, `assert settings()["currency"] == "USD"`)
	r := paved(t, env, "run", "python-batch", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "tests.test_report.test_settings") {
		t.Errorf("the failure does not name the test:\n%s", r.stderr)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Test == nil || rep.Test.Failed != 1 || len(rep.Test.Failures) != 1 || rep.Test.Failures[0].File != "tests/test_report.py" || rep.Image != nil {
		t.Errorf("report test %+v, image %+v", rep.Test, rep.Image)
	}
}

func TestPythonBatchCoverageGate(t *testing.T) {
	env := pythonEnv(t)
	src := copyPythonExample(t)
	r := paved(t, env, "run", "python-batch", "--source", src, "--cache-dir", t.TempDir(), "--coverage", "99")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	if rep.Test == nil || rep.Test.Coverage <= 0 || rep.Test.Coverage >= 99 {
		t.Fatalf("report test %+v", rep.Test)
	}
	if want := "is below the 99.0% threshold"; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "coverage ") {
		t.Errorf("stderr does not give the figure (%q):\n%s", want, r.stderr)
	}
}

func TestPythonBatchRefusesAnUnpinnedLock(t *testing.T) {
	src := copyPythonExample(t)
	replaceInFile(t, filepath.Join(src, "requirements.txt"), "toml==0.10.2 \\", "toml>=0.10 \\")
	r := paved(t, nil, "run", "python-batch", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "job.requirements") || !strings.Contains(r.stderr, "requirements.txt:12") || !strings.Contains(r.stderr, "not pinned") {
		t.Errorf("the error does not name the field and line:\n%s", r.stderr)
	}
}

// A job locked with uv or Poetry: pyproject.toml and its lock, no
// requirements.txt. paved reads the lock's runtime dependencies with their
// hashes and pip installs them (from the example's wheels, through pip's
// own configuration as a user's index would be); the SBOM lists them and
// the dev dependency stays out. The locks are written here in each tool's
// format: neither tool is installed on the test machines.
func TestPythonBatchLockedProject(t *testing.T) {
	for _, tool := range []string{"uv", "poetry"} {
		t.Run(tool, func(t *testing.T) { testLockedProject(t, tool) })
	}
}

func testLockedProject(t *testing.T, tool string) {
	env := pythonEnv(t)
	src := copyPythonExample(t)
	if err := os.Remove(filepath.Join(src, "requirements.txt")); err != nil {
		t.Fatal(err)
	}
	hash := func(wheel string) string {
		b, err := os.ReadFile(filepath.Join(src, "wheels", wheel))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
	}
	const pytestHash = "sha256:c69214aa47deac29fad6c2a4f590b9c4a9fdb16a403176fe154b79c0b4d4d820"
	var files map[string]string
	switch tool {
	case "uv":
		// A package from the index with one wheel, as uv locks it.
		locked := func(name, version, wheel, hash string) string {
			return fmt.Sprintf("\n[[package]]\nname = %q\nversion = %q\nsource = { registry = \"https://pypi.org/simple\" }\n"+
				"wheels = [\n    { url = \"https://files.pythonhosted.org/packages/%s\", hash = %q },\n]\n", name, version, wheel, hash)
		}
		files = map[string]string{
			"pyproject.toml": "[project]\nname = \"nightly-report\"\nversion = \"0.1.0\"\ndependencies = [\"six\", \"toml\"]\n\n[dependency-groups]\ndev = [\"pytest\"]\n",
			"uv.lock": `version = 1
requires-python = ">=3.11"

[[package]]
name = "nightly-report"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "six" },
    { name = "toml" },
]

[package.dev-dependencies]
dev = [
    { name = "pytest" },
]
` + locked("pytest", "8.3.5", "pytest-8.3.5-py3-none-any.whl", pytestHash) +
				locked("six", "1.16.0", "six-1.16.0-py3-none-any.whl", hash("six-1.16.0-py3-none-any.whl")) +
				locked("toml", "0.10.2", "toml-0.10.2-py3-none-any.whl", hash("toml-0.10.2-py3-none-any.whl")),
		}
	case "poetry":
		// A package with one wheel, as Poetry 1.8 locks it.
		locked := func(name, version, wheel, hash string) string {
			return fmt.Sprintf("[[package]]\nname = %q\nversion = %q\ndescription = \"\"\noptional = false\npython-versions = \">=3.8\"\n"+
				"files = [\n    {file = %q, hash = %q},\n]\n\n", name, version, wheel, hash)
		}
		files = map[string]string{
			"pyproject.toml": `[tool.poetry]
name = "nightly-report"
version = "0.1.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.9"
six = "^1.16"
toml = "^0.10"

[tool.poetry.group.dev.dependencies]
pytest = "^8.3"
`,
			"poetry.lock": "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n\n" +
				locked("pytest", "8.3.5", "pytest-8.3.5-py3-none-any.whl", pytestHash) +
				locked("six", "1.16.0", "six-1.16.0-py3-none-any.whl", hash("six-1.16.0-py3-none-any.whl")) +
				locked("toml", "0.10.2", "toml-0.10.2-py3-none-any.whl", hash("toml-0.10.2-py3-none-any.whl")) +
				"[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.9\"\ncontent-hash = \"" + strings.Repeat("ab", 32) + "\"\n",
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env = append(env, "PIP_NO_INDEX=1", "PIP_FIND_LINKS="+filepath.Join(src, "wheels"))
	runToLayout(t, env, "python-batch", src)
	rep := readReport(t, filepath.Join(src, ".paved", "report.json"))
	for p, sbom := range imageSBOMs(t, rep) {
		for _, purl := range []string{"pkg:pypi/six@1.16.0", "pkg:pypi/toml@0.10.2"} {
			if !strings.Contains(sbom, purl) {
				t.Errorf("the image SBOM %s does not list %s", p, purl)
			}
		}
		if strings.Contains(sbom, "pkg:pypi/pytest@") {
			t.Errorf("the image SBOM %s lists the dev dependency pytest", p)
		}
	}

	// A hash that does not match the wheel: pip refuses it, and so does
	// the run.
	lock := map[string]string{"uv": "uv.lock", "poetry": "poetry.lock"}[tool]
	replaceInFile(t, filepath.Join(src, lock), hash("six-1.16.0-py3-none-any.whl"), "sha256:"+strings.Repeat("0", 64))
	os.RemoveAll(filepath.Join(src, ".paved"))
	r := paved(t, env, "run", "python-batch", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, "six") {
		t.Fatalf("a wrong hash in %s: exit %d, want 1 naming six\n%s", lock, r.code, r.stderr)
	}
}
