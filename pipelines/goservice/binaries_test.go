package goservice

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/modules/build"
	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// paved.yaml's binaries:, entrypoint: and toolchain: reach the build, and
// each is part of the build step's key.
func TestBinariesReachTheBuild(t *testing.T) {
	ctx := context.Background()
	_, svc := keyFixture(t)
	yaml := "binaries:\n  - {main: ., name: svc}\n  - {main: ./cmd/tool}\nentrypoint: tool\ntoolchain: go1.26.8\nplatforms: [linux/amd64]\n"
	keys := map[string]bool{}
	for _, y := range []string{yaml,
		"binaries:\n  - {main: ., name: svc}\n  - {main: ./cmd/tool}\ntoolchain: go1.26.8\nplatforms: [linux/amd64]\n",
		"binaries:\n  - {main: ., name: svc}\n  - {main: ./cmd/tool}\nentrypoint: tool\ntoolchain: go1.26.7\nplatforms: [linux/amd64]\n",
		"binaries:\n  - {main: ., name: svc}\nplatforms: [linux/amd64]\n",
	} {
		writeFiles(t, svc, map[string]string{pipelines.ConfigFile: y})
		r, err := Build(ctx, pipelines.Options{Source: svc})
		if err != nil {
			t.Fatal(err)
		}
		s := r.Graph.Step("build").(*buildStep)
		if y == yaml {
			want := []build.Binary{{Main: ".", Name: "svc"}, {Main: "./cmd/tool"}}
			if diff := cmp.Diff(want, s.opts.Binaries); diff != "" || s.opts.Entrypoint != "tool" || s.opts.Toolchain != "go1.26.8" {
				t.Errorf("build options: binaries (-want +got) %s, entrypoint %q, toolchain %q", diff, s.opts.Entrypoint, s.opts.Toolchain)
			}
		}
		k, err := s.Key(ctx, runner.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		if keys[k] {
			t.Errorf("paved.yaml %q: same build key as another setting", y)
		}
		keys[k] = true
	}
}
