package python

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallFromALocalWheelhouse(t *testing.T) {
	py := testPython(t, "pip", "setuptools", "wheel")
	wheels := wheelhouse(t, py, map[string][2]string{"paved-greeting": {"1.2.0", "paved-words==0.3.1"}, "paved-words": {"0.3.1", ""}})
	dir := t.TempDir()
	lock := filepath.Join(dir, "requirements.txt")
	writeFiles(t, dir, map[string]string{"requirements.txt": "paved_greeting==1.2.0\npaved-words==0.3.1\n"})
	target := filepath.Join(dir, "deps")
	pkgs, err := Install(context.Background(), InstallOptions{Python: py, Requirements: lock, Target: target, Env: pipEnv(wheels)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0] != (Package{Name: "paved-greeting", Version: "1.2.0"}) || pkgs[1] != (Package{Name: "paved-words", Version: "0.3.1"}) {
		t.Errorf("installed %+v", pkgs)
	}
	for _, p := range []string{"paved_greeting_mod.py", "paved_words_mod.py", "paved_greeting-1.2.0.dist-info/METADATA"} {
		if _, err := os.Stat(filepath.Join(target, p)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	// No bytecode: it would differ run to run and machine to machine.
	filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
		if strings.HasSuffix(p, ".pyc") {
			t.Errorf("bytecode in the dependencies: %s", p)
		}
		return nil
	})
}

func TestInstallRefusesADependencyTheLockDoesNotPin(t *testing.T) {
	py := testPython(t, "pip", "setuptools", "wheel")
	wheels := wheelhouse(t, py, map[string][2]string{"paved-greeting": {"1.2.0", "paved-words"}, "paved-words": {"0.3.1", ""}})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"requirements.txt": "paved-greeting==1.2.0\n"})
	_, err := Install(context.Background(), InstallOptions{Python: py, Requirements: filepath.Join(dir, "requirements.txt"), Target: filepath.Join(dir, "deps"), Env: pipEnv(wheels)})
	if err == nil || !strings.Contains(err.Error(), "paved-words 0.3.1 was installed as a dependency") || !strings.Contains(err.Error(), "paved-words==0.3.1") {
		t.Fatalf("got %v, want an error naming the unpinned dependency", err)
	}
}

func TestInstallRefusesAnUnpinnedLockBeforePip(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"requirements.txt": "six==1.16.0\nrequests>=2\n"})
	// No interpreter is needed to refuse it.
	_, err := Install(context.Background(), InstallOptions{Python: Interpreter{Path: "/nonexistent/python"}, Requirements: filepath.Join(dir, "requirements.txt"), Target: filepath.Join(dir, "deps")})
	var re *RequirementError
	if !errors.As(err, &re) || re.Line != 2 || !strings.Contains(err.Error(), "requirements.txt:2") {
		t.Fatalf("got %v, want a RequirementError for line 2", err)
	}
}

func TestInstallNamesPipsFailure(t *testing.T) {
	py := testPython(t, "pip")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"requirements.txt": "paved-absent==9.9.9\n"})
	_, err := Install(context.Background(), InstallOptions{Python: py, Requirements: filepath.Join(dir, "requirements.txt"), Target: filepath.Join(dir, "deps"), Env: pipEnv(t.TempDir())})
	if err == nil || !strings.Contains(err.Error(), "paved-absent") {
		t.Fatalf("got %v, want pip's failure naming the package", err)
	}
}

func TestInstallFromAPoetryLock(t *testing.T) {
	py := testPython(t, "pip", "setuptools", "wheel")
	wheels := wheelhouse(t, py, map[string][2]string{"paved-greeting": {"1.2.0", "paved-words==0.3.1"}, "paved-words": {"0.3.1", ""}, "paved-dev": {"0.1.0", ""}})
	hash := func(name string) string {
		m, err := filepath.Glob(filepath.Join(wheels, strings.ReplaceAll(name, "-", "_")+"-*.whl"))
		if err != nil || len(m) != 1 {
			t.Fatalf("wheel %s: %v %v", name, m, err)
		}
		b, err := os.ReadFile(m[0])
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
	}
	pkg := func(name, version, rest string) string {
		return fmt.Sprintf("[[package]]\nname = %q\nversion = %q\noptional = false\npython-versions = \"*\"\nfiles = [{file = \"%s-%s-py3-none-any.whl\", hash = %q}]\n%s\n",
			name, version, strings.ReplaceAll(name, "-", "_"), version, hash(name), rest)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"pyproject.toml": "[tool.poetry.dependencies]\npython = \"^3.9\"\npaved-greeting = \"^1.2\"\n\n[tool.poetry.group.dev.dependencies]\npaved-dev = \"*\"\n",
		"poetry.lock": pkg("paved-dev", "0.1.0", "") + pkg("paved-greeting", "1.2.0", "[package.dependencies]\npaved-words = \"0.3.1\"\n") + pkg("paved-words", "0.3.1", "") +
			"[metadata]\nlock-version = \"2.0\"\npython-versions = \"^3.9\"\ncontent-hash = \"00\"\n",
	})
	pkgs, err := Install(context.Background(), InstallOptions{Python: py, Requirements: filepath.Join(dir, "poetry.lock"), Target: filepath.Join(dir, "deps"), Env: pipEnv(wheels)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0] != (Package{Name: "paved-greeting", Version: "1.2.0"}) || pkgs[1] != (Package{Name: "paved-words", Version: "0.3.1"}) {
		t.Errorf("installed %+v, want paved-greeting and paved-words without the dev group", pkgs)
	}
}

func TestInstallRefusesAPoetryLockBeforePip(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"no hashes":    {"pyproject.toml": "[project]\ndependencies = [\"six\"]\n", "poetry.lock": "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\nfiles = []\n\n[metadata]\nlock-version = \"2.1\"\n"},
		"no pyproject": {"poetry.lock": "[metadata]\nlock-version = \"2.1\"\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, files)
			// No interpreter is needed to refuse it.
			_, err := Install(context.Background(), InstallOptions{Python: Interpreter{Path: "/nonexistent/python"}, Requirements: filepath.Join(dir, "poetry.lock"), Target: filepath.Join(dir, "deps")})
			var pe *PoetryLockError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a PoetryLockError", err)
			}
		})
	}
}
