package sbom

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"
	"golang.org/x/mod/modfile"
)

// SourceSubject is the Subject of the documents Source writes.
const SourceSubject = "source"

// sourceExcludes are never part of a service's source: paved's own outputs
// (which hold the built image) and version control metadata.
var sourceExcludes = []string{"./.paved", "**/.git"}

// Source writes SBOMs of the source directory srcDir into dir, named
// "source.spdx.json" and so on. Go modules come from go.mod and go.sum as
// they are, without running the go command. The document is named after
// the module path in srcDir/go.mod (else the directory's name); its
// creation time is SOURCE_DATE_EPOCH when set, else now (see SourceAt).
func Source(ctx context.Context, srcDir, dir string, formats ...Format) ([]Document, error) {
	return SourceAt(ctx, srcDir, dir, time.Time{}, formats...)
}

// SourceAt is Source with the documents' creation time given, typically the
// commit time, so that the same commit gives the same documents. A zero
// time means what it means for Source.
func SourceAt(ctx context.Context, srcDir, dir string, created time.Time, formats ...Format) (docs []Document, err error) {
	warmLicenseScanner()
	formats, err = checkFormats(formats)
	if err != nil {
		return nil, err
	}
	at, err := creationTime(created)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := prepare(dir); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", srcDir, err)
	}
	name, err := sourceName(abs)
	if err != nil {
		return nil, err
	}

	excludes := sourceExcludes
	if out, err := filepath.Abs(dir); err == nil {
		if rel, err := filepath.Rel(abs, out); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			excludes = append(excludes[:len(excludes):len(excludes)], "./"+filepath.ToSlash(rel))
		}
	}
	src, err := directorysource.New(directorysource.Config{
		Path:    abs,
		Base:    abs,
		Exclude: source.ExcludeConfig{Paths: excludes},
		// A name makes the source's ID independent of where it is checked out.
		Alias: source.Alias{Name: name},
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", srcDir, err)
	}
	defer func() {
		if c, ok := src.(interface{ Close() error }); ok {
			err = errors.Join(err, c.Close())
		}
	}()

	s, err := catalog(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", srcDir, err)
	}
	// The scanned path would put this machine's directory layout into the
	// documents (CycloneDX derives the root component's ID from it); file
	// locations are already relative to it.
	s.Source.Metadata = source.DirectoryMetadata{Path: "."}
	return emit(ctx, s, SourceSubject, SourceSubject, dir, at, formats)
}

// sourceName is the module path declared in dir/go.mod, or the directory's
// base name when there is no go.mod.
func sourceName(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return filepath.Base(dir), nil
	case err != nil:
		return "", fmt.Errorf("source %s: %w", dir, err)
	}
	if p := modfile.ModulePath(b); p != "" {
		return p, nil
	}
	return filepath.Base(dir), nil
}
