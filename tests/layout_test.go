package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// apiMain prints the version variables the ldflags set and the kodata
// file its argument names, as a service reading its assets would.
const apiMain = `package main

import (
	"fmt"
	"os"
	"path/filepath"
)

var version, commit, date, builder = "dev", "none", "unknown", "nobody"

func main() {
	fmt.Printf("version=%s commit=%s date=%s builder=%s\n", version, commit, date, builder)
	b, err := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), os.Args[1]))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
`

// layoutService writes a module whose root is a library and whose mains
// are under cmd/, the layout of many open-source Go services.
func layoutService(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "svc")
	all := map[string]string{"go.mod": "module example.com/svc\n\ngo 1.22\n", "svc.go": "package svc\n\nconst Name = \"svc\"\n"}
	for k, v := range files {
		all[k] = v
	}
	writeLayoutFiles(t, dir, all)
	return dir
}

// A service with its main under cmd/api and kodata/ beside it builds
// with no paved.yaml; the binary, run from the image pulled back from
// the registry, reads its asset through KO_DATA_PATH. Then ldflags
// templates from paved.yaml land in the binary.
func TestMainUnderCmdWithKodataAndLdflags(t *testing.T) {
	requireLinuxAMD64(t)
	reg := registry(t)
	src := layoutService(t, map[string]string{
		"cmd/api/main.go":             apiMain,
		"cmd/api/kodata/greeting.txt": "hello from kodata\n",
	})
	env := []string{"PAVED_COMMIT=0123456789abcdef0123456789abcdef01234567", "SOURCE_DATE_EPOCH=1700000000", "PAVED_E2E_BUILDER=e2e-runner"}
	cache := t.TempDir()

	r := paved(t, env, "build", "--source", src, "--image", reg+"/layout/api", "--platform", "linux/amd64", "--cache-dir", cache)
	if r.code != 0 {
		t.Fatalf("paved build: exit %d\n%s", r.code, r.stderr)
	}
	out := runPulled(t, r.lastLine(), "greeting.txt")
	if want := "version=0123456789ab commit=none date=unknown builder=nobody\nhello from kodata\n"; out != want {
		// Without ldflags: paved's default sets main.version only.
		t.Errorf("binary printed %q, want %q", out, want)
	}

	writeLayoutFiles(t, src, map[string]string{"paved.yaml": `ldflags:
  - -X main.version={{.Version}} -X main.commit={{.ShortCommit}}
  - -X main.date={{.Date}} -X main.builder={{.Env.PAVED_E2E_BUILDER}}
container:
  env: {GREETING_FILE: greeting.txt}
  ports: [8080]
`})
	r = paved(t, env, "build", "--source", src, "--image", reg+"/layout/api", "--platform", "linux/amd64", "--cache-dir", cache)
	if r.code != 0 {
		t.Fatalf("paved build with ldflags: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "e2e-runner") {
		t.Errorf("paved's output shows a rendered environment value:\n%s\n%s", r.stdout, r.stderr)
	}
	out = runPulled(t, r.lastLine(), "greeting.txt")
	if want := "version=0123456789ab commit=0123456 date=2023-11-14T22:13:20Z builder=e2e-runner\nhello from kodata\n"; out != want {
		t.Errorf("binary printed %q, want %q", out, want)
	}
}

// runPulled pulls ref's linux/amd64 image, extracts it, checks the
// entrypoint and KO_DATA_PATH it declares, and runs the entrypoint with
// KO_DATA_PATH under the extracted tree.
func runPulled(t *testing.T, ref string, args ...string) string {
	t.Helper()
	idx, err := remote.Index(mustRef(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cf.Config.Entrypoint, " "); got != "/app/api" {
		t.Fatalf("entrypoint %q, want /app/api", got)
	}
	koData := ""
	for _, e := range cf.Config.Env {
		if v, ok := strings.CutPrefix(e, "KO_DATA_PATH="); ok {
			koData = v
		}
	}
	if koData != "/var/run/ko" {
		t.Fatalf("KO_DATA_PATH = %q in %v, want /var/run/ko", koData, cf.Config.Env)
	}
	root := extract(t, img)
	cmd := exec.Command(filepath.Join(root, "app", "api"), args...)
	cmd.Env = []string{"KO_DATA_PATH=" + filepath.Join(root, koData)}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running the image's /app/api: %v\n%s", err, out)
	}
	return string(out)
}

// Two mains under cmd/ and no paved.yaml: exit 2, naming both and the
// paved.yaml lines that choose.
func TestTwoMainsExitTwo(t *testing.T) {
	src := layoutService(t, map[string]string{
		"cmd/api/main.go":    "package main\n\nfunc main() {}\n",
		"cmd/worker/main.go": "package main\n\nfunc main() {}\n",
	})
	r := paved(t, nil, "build", "--source", src, "--cache-dir", t.TempDir())
	if r.code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"paved.yaml: main", "./cmd/api, ./cmd/worker", "main: ./cmd/api", "binaries:\n    - {main: ./cmd/api}\n    - {main: ./cmd/worker}"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(src, ".paved", "image")); err == nil {
		t.Error("an image was written")
	}
}

func writeLayoutFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
