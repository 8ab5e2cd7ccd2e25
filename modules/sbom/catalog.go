package sbom

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	syftsbom "github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	// Syft's RPM cataloger opens databases with this driver; without it
	// CreateSBOM fails with `unknown driver "sqlite"`.
	_ "modernc.org/sqlite"
)

// syftVersion is the Syft release linked in, named in every document. Syft
// reads it from the binary's build info, which test binaries lack; a test
// keeps this in step with go.mod.
const syftVersion = "v1.57.1"

// createConfig is Syft's default cataloging with every network lookup and
// every machine-dependent input turned off: the document depends only on
// what is scanned.
func createConfig() *syft.CreateSBOMConfig {
	pk := pkgcataloging.DefaultConfig()

	// No go command (it may download modules) and no licenses from the
	// proxy or from this machine's module cache.
	pk.Golang = pk.Golang.
		WithSearchRemoteLicenses(false).
		WithSearchLocalModCacheLicenses(false).
		WithSearchLocalVendorLicenses(false).
		WithUsePackagesLib(false)

	pk.JavaArchive = pk.JavaArchive.
		WithUseNetwork(false).
		WithUseMavenLocalRepository(false)
	pk.JavaScript = pk.JavaScript.WithSearchRemoteLicenses(false)
	pk.Python = pk.Python.WithSearchRemoteLicenses(false)

	return syft.DefaultCreateSBOMConfig().
		WithTool("syft", syftVersion).
		WithPackagesConfig(pk)
}

// licenseScanner holds Syft's license scanner, which takes seconds of CPU
// to build and is safe to share: CreateSBOM builds one per call unless the
// context carries one.
var licenseScanner = sync.OnceValues(func() (context.Context, error) {
	return syft.SetContextLicenseScanner(context.Background(), createConfig().Licenses)
})

// warmLicenseScanner starts building the license scanner, so that the
// seconds it takes overlap reading and unpacking what is catalogued.
func warmLicenseScanner() { go licenseScanner() }

// waitLicenseScanner returns licenseScanner, or ctx's error if ctx ends
// first: the first build takes seconds and can't be interrupted, so it goes
// on in the background for the next caller.
func waitLicenseScanner(ctx context.Context) (context.Context, error) {
	type result struct {
		ctx context.Context
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := licenseScanner()
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		return r.ctx, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// withValues is ctx with values it lacks looked up in vals.
type withValues struct {
	context.Context
	vals context.Context
}

func (c withValues) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.vals.Value(key)
}

// catalog runs Syft over src. Cancelling ctx stops it.
func catalog(ctx context.Context, src source.Source) (*syftsbom.SBOM, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scanner, err := waitLicenseScanner(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("license scanner: %w", err)
	}
	s, err := syft.CreateSBOM(withValues{ctx, scanner}, src, createConfig())
	// After a cancellation Syft may return a partial catalog, or errors of
	// its tasks that don't say why: either way the cause is ctx's.
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", src.Describe().Name, err)
	}
	return s, nil
}

// emit encodes s in every format and writes the files subject+ext in dir.
func emit(ctx context.Context, s *syftsbom.SBOM, subject, file, dir string, created time.Time, formats []Format) ([]Document, error) {
	docs := make([]Document, 0, len(formats))
	for _, f := range formats {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := encode(f, *s, created)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", subject, err)
		}
		d, err := writeDocument(dir, file+f.Ext(), b)
		if err != nil {
			return nil, err
		}
		d.Format, d.Subject = f, subject
		docs = append(docs, d)
	}
	return docs, nil
}
