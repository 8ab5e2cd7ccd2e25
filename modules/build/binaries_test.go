package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// twoMains writes a module with main packages cmd/server and cmd/helper.
func twoMains(t *testing.T) string {
	dir := fixture(t, fixtureMain)
	for _, sub := range []string{"server", "helper"} {
		d := filepath.Join(dir, "cmd", sub)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "main.go"), []byte(fixtureMain), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestGoBinaries(t *testing.T) {
	dir := twoMains(t)
	tests := []struct {
		name      string
		bins      []Binary
		entry     string
		wantEntry string
		wantFiles []string // /app files, one layer each, in order
		wantErr   string
	}{
		{name: "first is the entrypoint", bins: []Binary{{Main: "./cmd/server"}, {Main: "./cmd/helper", Name: "aide"}},
			wantEntry: "/app/server", wantFiles: []string{"app/server", "app/aide"}},
		{name: "named entrypoint", bins: []Binary{{Main: "./cmd/server"}, {Main: "./cmd/helper"}}, entry: "helper",
			wantEntry: "/app/helper", wantFiles: []string{"app/server", "app/helper"}},
		{name: "unknown entrypoint", bins: []Binary{{Main: "./cmd/server"}}, entry: "nope", wantErr: `entrypoint "nope" is none of the binaries (server)`},
		{name: "same name twice", bins: []Binary{{Main: "./cmd/server"}, {Main: "./cmd/helper", Name: "server"}}, wantErr: `two binaries are named "server"`},
		{name: "no main", bins: []Binary{{Name: "x"}}, wantErr: "binary 1: no main package"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idx, err := Go(context.Background(), Options{Dir: dir, Binaries: tt.bins, Entrypoint: tt.entry,
				Platforms: []v1.Platform{amd64}, Env: offlineEnv})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mustValidateIndex(t, idx)
			img := imageFor(t, idx, amd64)
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantEntry}, cf.Config.Entrypoint); diff != "" {
				t.Errorf("entrypoint (-want +got):\n%s", diff)
			}
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			// The minimal base's layer, then one per binary.
			var got []string
			for _, l := range layers[1:] {
				for _, f := range readLayer(t, l) {
					if f.Type != '5' {
						got = append(got, f.Name)
					}
				}
			}
			if diff := cmp.Diff(tt.wantFiles, got); diff != "" {
				t.Errorf("binary layers (-want +got):\n%s", diff)
			}
		})
	}
}
