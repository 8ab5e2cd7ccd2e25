package scan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/linux"
	"github.com/anchore/syft/syft/pkg"
	ftypes "github.com/aquasecurity/trivy/pkg/fanal/types"
	"github.com/aquasecurity/trivy/pkg/types"
	debversion "github.com/knqyf263/go-deb-version"
	"github.com/package-url/packageurl-go"

	"github.com/pavedhq/paved/modules/sbom"
)

// scanTarget turns Syft's catalogue of an image into what Trivy's
// detectors read: the distribution, its OS packages with their source
// packages (which most distributions' advisories name), and one
// application per file that holds language packages (a Go binary, an npm
// package.json, a Python METADATA) and that no OS package installed, the
// way Trivy's own image analyzers report them. Packages Trivy has no
// detector for are left out.
func scanTarget(name string, in *sbom.Installed) types.ScanTarget {
	t := types.ScanTarget{Name: name, OS: osOf(in.Distro)}
	// Files an OS package installed (a distribution's Python library, a
	// Go tool it ships) are matched through that package's advisories,
	// not as language packages: Trivy's analyzers skip them too.
	osFiles := map[string]bool{}
	for _, p := range in.Packages {
		if op, ok := osPackage(p); ok {
			t.Packages = append(t.Packages, op)
			if fo, ok := p.Metadata.(pkg.FileOwner); ok {
				for _, f := range fo.OwnedFiles() {
					osFiles[strings.TrimPrefix(f, "/")] = true
				}
			}
		}
	}
	apps := map[[2]string]*ftypes.Application{}
	for _, p := range in.Packages {
		typ, lp, ok := langPackage(p)
		if !ok {
			continue
		}
		path := lp.FilePath
		if osFiles[path] {
			continue
		}
		key := [2]string{string(typ), path}
		app := apps[key]
		if app == nil {
			app = &ftypes.Application{Type: typ, FilePath: path}
			apps[key] = app
		}
		app.Packages = append(app.Packages, lp)
	}
	for _, app := range apps {
		t.Applications = append(t.Applications, *app)
	}
	slices.SortFunc(t.Applications, func(a, b ftypes.Application) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.FilePath, b.FilePath))
	})
	return t
}

// osFamilies maps os-release IDs to the families Trivy's OS detectors know.
var osFamilies = map[string]ftypes.OSType{
	"alpine":              ftypes.Alpine,
	"almalinux":           ftypes.Alma,
	"amzn":                ftypes.Amazon,
	"azurelinux":          ftypes.Azure,
	"bottlerocket":        ftypes.Bottlerocket,
	"centos":              ftypes.CentOS,
	"chainguard":          ftypes.Chainguard,
	"debian":              ftypes.Debian,
	"echo":                ftypes.Echo,
	"fedora":              ftypes.Fedora,
	"mariner":             ftypes.CBLMariner,
	"minimos":             ftypes.MinimOS,
	"ol":                  ftypes.Oracle,
	"opensuse-leap":       ftypes.OpenSUSELeap,
	"opensuse-tumbleweed": ftypes.OpenSUSETumbleweed,
	"photon":              ftypes.Photon,
	"rhel":                ftypes.RedHat,
	"rocky":               ftypes.Rocky,
	"sl-micro":            ftypes.SLEMicro,
	"sles":                ftypes.SLES,
	"ubuntu":              ftypes.Ubuntu,
	"wolfi":               ftypes.Wolfi,
}

// osOf names the distribution as Trivy does; an unknown one is left
// undetected, so its OS packages are not matched against another's
// advisories.
func osOf(r *linux.Release) ftypes.OS {
	if r == nil {
		return ftypes.OS{}
	}
	fam, ok := osFamilies[r.ID]
	if !ok {
		return ftypes.OS{}
	}
	return ftypes.OS{Family: fam, Name: cmp.Or(r.VersionID, r.Version), Extended: r.ExtendedSupport}
}

// osPackage is p as Trivy's dpkg, apk and rpm analyzers report it: the
// version split as the detectors compare it, and the source package.
func osPackage(p pkg.Package) (ftypes.Package, bool) {
	switch m := p.Metadata.(type) {
	case pkg.DpkgDBEntry:
		op := ftypes.Package{ID: p.Name + "@" + p.Version, Name: p.Name, Arch: m.Architecture,
			SrcName: cmp.Or(m.Source, p.Name)}
		v, err := debversion.NewVersion(p.Version)
		if err != nil {
			return ftypes.Package{}, false
		}
		op.Version, op.Epoch, op.Release = v.Version(), v.Epoch(), v.Revision()
		sv, err := debversion.NewVersion(cmp.Or(m.SourceVersion, p.Version))
		if err != nil {
			return ftypes.Package{}, false
		}
		op.SrcVersion, op.SrcEpoch, op.SrcRelease = sv.Version(), sv.Epoch(), sv.Revision()
		return op, true
	case pkg.ApkDBEntry:
		return ftypes.Package{ID: p.Name + "@" + p.Version, Name: p.Name, Version: p.Version, Arch: m.Architecture,
			SrcName: cmp.Or(m.OriginPackage, p.Name), SrcVersion: p.Version}, true
	case pkg.RpmDBEntry:
		op := ftypes.Package{ID: fmt.Sprintf("%s@%s-%s.%s", m.Name, m.Version, m.Release, m.Arch), Name: m.Name,
			Version: m.Version, Release: m.Release, Arch: m.Arch,
			SrcName: m.Name, SrcVersion: m.Version, SrcRelease: m.Release}
		if m.Epoch != nil {
			op.Epoch, op.SrcEpoch = *m.Epoch, *m.Epoch
		}
		if m.ModularityLabel != nil {
			op.Modularitylabel = *m.ModularityLabel
		}
		if n, v, r, ok := splitSourceRPM(m.SourceRpm); ok {
			op.SrcName, op.SrcVersion, op.SrcRelease = n, v, r
		}
		return op, true
	}
	return ftypes.Package{}, false
}

// splitSourceRPM splits "openssl-3.0.7-24.el9.src.rpm" into name, version
// and release, as rpm's own tools read such a name.
func splitSourceRPM(file string) (name, ver, rel string, ok bool) {
	s := strings.TrimSuffix(file, ".rpm")
	arch := strings.LastIndex(s, ".")
	if arch < 0 {
		return "", "", "", false
	}
	r := strings.LastIndex(s[:arch], "-")
	if r < 0 {
		return "", "", "", false
	}
	v := strings.LastIndex(s[:r], "-")
	if v <= 0 {
		return "", "", "", false
	}
	return s[:v], s[v+1 : r], s[r+1 : arch], true
}

// langPackage is p as Trivy's analyzer for the same file reports it, with
// the application type whose detector matches it. Packages found in lock
// files are not: Trivy's image scan reads what is installed.
func langPackage(p pkg.Package) (ftypes.LangType, ftypes.Package, bool) {
	name, version := p.Name, p.Version
	var typ ftypes.LangType
	switch p.Metadata.(type) {
	case pkg.GolangBinaryBuildinfoEntry:
		typ = ftypes.GoBinary
		switch {
		case name == "stdlib":
			// Syft says go1.22.0; Go's advisories and Trivy say v1.22.0.
			version = "v" + strings.TrimPrefix(strings.TrimPrefix(version, "go"), "v")
		case version == "(devel)":
			version = ""
		}
	case pkg.NpmPackage:
		typ = ftypes.NodePkg
	case pkg.PythonPackage:
		typ = ftypes.PythonPkg
	case pkg.RubyGemspec:
		typ = ftypes.GemSpec
	case pkg.RustBinaryAuditEntry:
		typ = ftypes.RustBinary
	case pkg.PhpComposerInstalledEntry:
		typ = ftypes.ComposerVendor
	case pkg.JavaArchive:
		typ = ftypes.Jar
		// Maven advisories name group:artifact; Syft's name is the artifact.
		pu, err := packageurl.FromString(p.PURL)
		if err != nil || pu.Namespace == "" {
			return "", ftypes.Package{}, false
		}
		name = pu.Namespace + ":" + pu.Name
	default:
		return "", ftypes.Package{}, false
	}
	if name == "" {
		return "", ftypes.Package{}, false
	}
	id := name
	if version != "" {
		id += "@" + version
	}
	return typ, ftypes.Package{ID: id, Name: name, Version: version, FilePath: primaryPath(p.Locations)}, true
}

// primaryPath is the file a package was found in, relative to the image's
// root as Trivy names it ("app/server").
func primaryPath(ls file.LocationSet) string {
	locs := ls.ToSlice()
	best := ""
	for _, l := range locs {
		if l.Annotations[pkg.EvidenceAnnotationKey] == pkg.PrimaryEvidenceAnnotation {
			best = l.RealPath
			break
		}
	}
	if best == "" && len(locs) > 0 {
		best = locs[0].RealPath
	}
	return strings.TrimPrefix(best, "/")
}
