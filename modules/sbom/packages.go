package sbom

import (
	"context"
	"fmt"

	"github.com/anchore/syft/syft/linux"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/alpine"
	"github.com/anchore/syft/syft/pkg/cataloger/debian"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
	"github.com/anchore/syft/syft/pkg/cataloger/java"
	"github.com/anchore/syft/syft/pkg/cataloger/javascript"
	"github.com/anchore/syft/syft/pkg/cataloger/php"
	"github.com/anchore/syft/syft/pkg/cataloger/python"
	"github.com/anchore/syft/syft/pkg/cataloger/redhat"
	"github.com/anchore/syft/syft/pkg/cataloger/ruby"
	"github.com/anchore/syft/syft/pkg/cataloger/rust"
	"github.com/anchore/syft/syft/source"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Installed is what Packages finds in an image: its Linux distribution
// (nil when it has no os-release) and its installed packages, as Syft's
// catalogers report them.
type Installed struct {
	Distro   *linux.Release
	Packages []pkg.Package
	// Unread says what a cataloger could not read (a malformed package
	// record, say), one entry per cataloger; Syft's SBOM lists the same as
	// unknowns. The packages it could read are in Packages.
	Unread []string
}

// installedCatalogers are the Syft catalogers of what is installed in an
// image that vulnerability databases have advisories for, configured as the
// SBOM's (no network, nothing read from this machine).
func installedCatalogers() []pkg.Cataloger {
	cfg := createConfig().Packages
	return []pkg.Cataloger{
		debian.NewDBCataloger(),
		alpine.NewDBCataloger(),
		redhat.NewDBCataloger(),
		golang.NewGoModuleBinaryCataloger(cfg.Golang),
		javascript.NewPackageCataloger(),
		python.NewInstalledPackageCataloger(),
		ruby.NewInstalledGemSpecCataloger(),
		php.NewComposerInstalledCataloger(),
		rust.NewAuditBinaryCataloger(),
		java.NewArchiveCataloger(cfg.JavaArchive),
	}
}

// Packages catalogues the packages installed in img with the catalogers
// the SBOM uses for them: OS package databases (dpkg, apk, rpm), Go
// binaries' build information, installed npm, Python, Ruby and PHP
// packages, Rust binaries and Java archives. Unlike Image it builds no
// licence scanner (seconds of CPU per process) and reads no file
// contents beyond the package records, so it costs little more than
// unpacking the layers: it is what the scan module matches against a
// vulnerability database. name is the image's reference.
func Packages(ctx context.Context, img v1.Image, name string) (*Installed, error) {
	subject := "image"
	if cf, err := img.ConfigFile(); err == nil {
		subject = platformOf(cf.Platform())
	}
	var out Installed
	err := withSource(ctx, img, name, subject, func(src source.Source) error {
		res, err := src.FileResolver(source.SquashedScope)
		if err != nil {
			return err
		}
		out.Distro = linux.IdentifyRelease(res)
		for _, c := range installedCatalogers() {
			pkgs, _, err := c.Catalog(ctx, res)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				out.Unread = append(out.Unread, c.Name()+": "+err.Error())
			}
			out.Packages = append(out.Packages, pkgs...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, subject, err)
	}
	return &out, nil
}
