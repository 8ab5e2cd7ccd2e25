package goflags

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		goflags string
		want    []string
	}{
		{"", []string{"-trimpath", NoDWARF}},
		{"-mod=mod -tags=netgo", []string{"-trimpath", NoDWARF}},
		// The user's -gcflags would be replaced by ours for every
		// package: theirs stand.
		{"-gcflags=all=-N", []string{"-trimpath"}},
		{"-mod=mod --gcflags=-l", []string{"-trimpath"}},
	} {
		if got := Flags(tc.goflags); !slices.Equal(got, tc.want) {
			t.Errorf("Flags(%q) = %v, want %v", tc.goflags, got, tc.want)
		}
	}
}

// Lookup asks the go command, so GOFLAGS set with `go env -w` (a file the
// environment does not show) counts as GOFLAGS in the environment does.
func TestLookup(t *testing.T) {
	dir := t.TempDir()
	goenv := filepath.Join(t.TempDir(), "env")
	inherited := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOFLAGS=") || strings.HasPrefix(kv, "GOENV=")
	})
	env := func(extra ...string) []string {
		return append(append(slices.Clip(inherited), "GOENV="+goenv), extra...)
	}
	for _, tc := range []struct {
		name, file string
		env        []string
		want       []string
	}{
		{"nothing set", "", env(), []string{"-trimpath", NoDWARF}},
		{"go env -w", "GOFLAGS=-gcflags=all=-N\n", env(), []string{"-trimpath"}},
		{"environment", "", env("GOFLAGS=-gcflags=-m"), []string{"-trimpath"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(goenv, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Lookup(context.Background(), dir, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// A go command that cannot run is an error, not a guess.
	if _, err := Lookup(context.Background(), filepath.Join(dir, "missing"), env()); err == nil {
		t.Error("Lookup in a missing directory: no error")
	}
}
