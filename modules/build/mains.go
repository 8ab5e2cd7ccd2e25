package build

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CommandsDir is where a module keeps its main packages when the root is a
// library, one per subdirectory (cmd/NAME), as ko and GoReleaser expect.
const CommandsDir = "cmd"

// NoMainError says that neither dir nor any directory under cmd/ holds a
// main package.
type NoMainError struct{ Dir string }

func (e *NoMainError) Error() string {
	return fmt.Sprintf("no main package in %s nor in %s/*/", e.Dir, CommandsDir)
}

// ManyMainsError says that dir is not a main package and cmd/ holds
// several, so which to build is a choice.
type ManyMainsError struct {
	Dir        string
	Candidates []string // ./cmd/NAME, sorted
}

func (e *ManyMainsError) Error() string {
	return fmt.Sprintf("%s is not a main package and %s/ holds %d: %s", e.Dir, CommandsDir, len(e.Candidates), strings.Join(e.Candidates, ", "))
}

// FindMain returns the main package to build in dir, relative to it: "."
// when dir is one, else the only main package directly under cmd/. It reads
// package clauses for the host's build context, as go list would, without
// running the go command.
func FindMain(dir string) (string, error) {
	if isMain(dir) {
		return ".", nil
	}
	ents, err := os.ReadDir(filepath.Join(dir, CommandsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var mains []string
	for _, e := range ents {
		if e.IsDir() && isMain(filepath.Join(dir, CommandsDir, e.Name())) {
			mains = append(mains, "./"+CommandsDir+"/"+e.Name())
		}
	}
	sort.Strings(mains)
	switch len(mains) {
	case 0:
		return "", &NoMainError{Dir: dir}
	case 1:
		return mains[0], nil
	}
	return "", &ManyMainsError{Dir: dir, Candidates: mains}
}

// isMain reports whether dir holds a main package. A directory whose
// files disagree (package main beside package x_test is fine, main beside
// lib is not) is not one: go build would refuse it.
func isMain(dir string) bool {
	ctx := build.Default
	ctx.CgoEnabled = false // paved builds with CGO_ENABLED=0
	p, err := ctx.ImportDir(dir, 0)
	return err == nil && p.Name == "main" && len(p.GoFiles) > 0
}
