package goservice

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// mainsFixture is a module whose root is a library, with the given mains
// under cmd/.
func mainsFixture(t *testing.T, mains ...string) string {
	dir := t.TempDir()
	files := map[string]string{"go.mod": "module example.com/svc\n\ngo 1.22\n", "svc.go": "package svc\n"}
	for _, m := range mains {
		files["cmd/"+m+"/main.go"] = "package main\n\nfunc main() {}\n"
	}
	writeFiles(t, dir, files)
	return dir
}

func TestMainUnderCmd(t *testing.T) {
	svc := mainsFixture(t, "api")
	r, err := Build(context.Background(), pipelines.Options{Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Graph.Step("build").(*buildStep).opts.Main; got != "./cmd/api" {
		t.Errorf("main = %q, want ./cmd/api", got)
	}
	// paved.yaml's main wins over the search.
	writeFiles(t, svc, map[string]string{"cmd/tool/main.go": "package main\n\nfunc main() {}\n", pipelines.ConfigFile: "main: ./cmd/tool\n"})
	r, err = Build(context.Background(), pipelines.Options{Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Graph.Step("build").(*buildStep).opts.Main; got != "./cmd/tool" {
		t.Errorf("main = %q, want ./cmd/tool", got)
	}
}

// Two mains and no paved.yaml: a configuration error (exit 2) on main,
// listing both and the lines that choose.
func TestTwoMainsNeedAChoice(t *testing.T) {
	svc := mainsFixture(t, "worker", "api")
	_, err := Build(context.Background(), pipelines.Options{Source: svc})
	var ce *pipelines.ConfigError
	if !errors.As(err, &ce) || ce.Field != "paved.yaml: main" {
		t.Fatalf("err = %v, want a ConfigError on paved.yaml: main", err)
	}
	for _, want := range []string{"./cmd/api, ./cmd/worker", "\n  main: ./cmd/api\n", "\n  binaries:\n    - {main: ./cmd/api}\n    - {main: ./cmd/worker}"} {
		if !strings.Contains(ce.Msg, want) {
			t.Errorf("message lacks %q:\n%s", want, ce.Msg)
		}
	}
	// The lines it suggests work.
	writeFiles(t, svc, map[string]string{pipelines.ConfigFile: "binaries:\n    - {main: ./cmd/api}\n    - {main: ./cmd/worker}\n"})
	if _, err := Build(context.Background(), pipelines.Options{Source: svc}); err != nil {
		t.Fatalf("with the suggested binaries: %v", err)
	}

	empty := mainsFixture(t)
	if _, err := Build(context.Background(), pipelines.Options{Source: empty}); !errors.As(err, &ce) || ce.Field != "paved.yaml: main" {
		t.Errorf("no main: err = %v, want a ConfigError on paved.yaml: main", err)
	}
}

// Static files, ldflags (templates and rendered values) and the runtime
// config are each part of the build step's key; an unrelated variable is
// not.
func TestImageSettingsKey(t *testing.T) {
	ctx := context.Background()
	svc := mainsFixture(t, "api")
	writeFiles(t, svc, map[string]string{"cmd/api/kodata/a.txt": "a", "static/s.css": "s", "node_modules/x/dist/x.js": "x"})
	key := func(yaml string) string {
		t.Helper()
		writeFiles(t, svc, map[string]string{pipelines.ConfigFile: yaml})
		r, err := Build(ctx, pipelines.Options{Source: svc})
		if err != nil {
			t.Fatal(err)
		}
		k, err := r.Graph.Step("build").(*buildStep).Key(ctx, runner.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	const base = "ldflags: ['-X main.who={{.Env.PAVED_TEST_WHO}}']\nfiles:\n  - {src: static/*, dst: /srv/}\n  - {src: node_modules/x/dist/*, dst: /srv/js/}\ncontainer: {ports: [8080]}\n"
	t.Setenv("PAVED_TEST_WHO", "alice")
	seen := map[string]string{}
	distinct := func(what, k string) {
		t.Helper()
		if prev, ok := seen[k]; ok {
			t.Errorf("%s: same build key as %s", what, prev)
		}
		seen[k] = what
	}
	k0 := key(base)
	distinct("base", k0)
	t.Setenv("PAVED_UNRELATED", "1")
	if k := key(base); k != k0 {
		t.Error("an unrelated variable changed the key")
	}
	t.Setenv("PAVED_TEST_WHO", "bob")
	distinct("a rendered value", key(base))
	t.Setenv("PAVED_TEST_WHO", "alice")
	distinct("a template", key(strings.Replace(base, "main.who", "main.user", 1)))
	distinct("a file's mode", key(strings.Replace(base, "dst: /srv/}", "dst: /srv/, mode: 0600}", 1)))
	distinct("the container", key(strings.Replace(base, "8080", "9090", 1)))
	writeFiles(t, svc, map[string]string{"cmd/api/kodata/a.txt": "b"})
	distinct("a kodata file", key(base))
	// node_modules is outside the module hash; as a static file it counts.
	writeFiles(t, svc, map[string]string{"node_modules/x/dist/x.js": "y"})
	distinct("a static file outside the source hash", key(base))

	writeFiles(t, svc, map[string]string{pipelines.ConfigFile: "ldflags: ['-X main.who={{.Env.PAVED_TEST_NOT_SET}}']\n"})
	_, err := Build(ctx, pipelines.Options{Source: svc})
	var ce *pipelines.ConfigError
	if !errors.As(err, &ce) || ce.Field != "paved.yaml: ldflags[0]" || !strings.Contains(ce.Msg, "PAVED_TEST_NOT_SET") {
		t.Errorf("err = %v, want a ConfigError on paved.yaml: ldflags[0] naming the variable", err)
	}
}

// The provenance names the main package that was found.
func TestProvenanceNamesTheFoundMain(t *testing.T) {
	svc := mainsFixture(t, "api")
	r, err := pipelines.Prepare(context.Background(), "attest", pipelines.Options{Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if got := configuredMains(r); got != "./cmd/api" {
		t.Errorf("configuredMains = %q, want ./cmd/api", got)
	}
}

// Every golden path's image carries these annotations; the source URL's
// credentials must never reach a registry.
func TestImageAnnotations(t *testing.T) {
	rc := runner.RunContext{Repo: "https://user:s3cret@git.example.com/org/svc", Commit: "0123456789abcdef0123"}
	ann := ImageAnnotations(rc, "svc", CommitVersion(rc))
	if src := ann["org.opencontainers.image.source"]; strings.Contains(src, "s3cret") || !strings.Contains(src, "git.example.com/org/svc") {
		t.Errorf("source = %q, want the URL without its credentials", src)
	}
	if got := ann["org.opencontainers.image.revision"]; got != rc.Commit {
		t.Errorf("revision = %q, want %q", got, rc.Commit)
	}
	if got := ann["org.opencontainers.image.version"]; got != "0123456789ab" {
		t.Errorf("version = %q, want the commit's first 12 digits", got)
	}
	if got := ann["org.opencontainers.image.title"]; got != "svc" {
		t.Errorf("title = %q, want svc", got)
	}
	bare := ImageAnnotations(runner.RunContext{}, "", CommitVersion(runner.RunContext{}))
	if len(bare) != 1 || bare["org.opencontainers.image.version"] != "dev" {
		t.Errorf("without repo, commit or service: %v, want only version dev", bare)
	}
}

// The lint step reads export data that go test and the build compile: it
// waits for the build when the build compiles the host's platform (last,
// after go test has compiled), so it runs beside go vet; for the tests
// otherwise, never for both to compile the same packages side by side.
func TestLintWaitsForWhatCompilesItsPackages(t *testing.T) {
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	for _, tc := range []struct {
		platforms string
		want      []string
	}{
		{"[linux/amd64, linux/arm64]", []string{"build"}},
		{"[" + other + "]", []string{"test"}},
	} {
		svc := mainsFixture(t, "api")
		writeFiles(t, svc, map[string]string{pipelines.ConfigFile: "platforms: " + tc.platforms + "\n"})
		r, err := Path(context.Background(), pipelines.Options{Source: svc})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Graph.Validate(); err != nil {
			t.Fatal(err)
		}
		needs, after := r.Graph.Waits("lint")
		if len(needs) != 0 || !slices.Equal(after, tc.want) {
			t.Errorf("platforms %s: lint needs %v, after %v; want after %v", tc.platforms, needs, after, tc.want)
		}
	}
	// paved test has no build to wait for, paved build no lint step.
	svc := mainsFixture(t, "api")
	r, err := Test(context.Background(), pipelines.Options{Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if _, after := r.Graph.Waits("lint"); !slices.Equal(after, []string{"test"}) {
		t.Errorf("paved test: lint after %v, want [test]", after)
	}
	r, err = Build(context.Background(), pipelines.Options{Source: svc})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Graph.Validate(); err != nil {
		t.Errorf("paved build: %v", err)
	}
}
