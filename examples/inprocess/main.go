// Command inprocess runs the go-service golden path from Go with every
// step in this process: the SBOM, scan and signing steps run through
// work.Executor, which links Syft, Trivy and cosign, so no paved-worker
// binary is needed. It is the smallest program that does what
// `paved run go-service` does.
//
//	go run ./examples/inprocess -source examples/go-service -vuln-db bin/vulndb-data
//
// The published reference (an OCI layout under the service's .paved/ by
// default) is the last line on stdout; the run report is .paved/report.json.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/pipelines/goservice"
	"github.com/pavedhq/paved/pipelines/goservice/work"
	"github.com/pavedhq/paved/runner"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "inprocess:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inprocess", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		o        pipelines.Options
		platform string
		cacheDir string
	)
	fs.StringVar(&o.Source, "source", ".", "the service directory")
	fs.StringVar(&o.Image, "image", "", "registry repository or oci:DIR (default: the service's .paved/image)")
	fs.StringVar(&platform, "platform", "", "platforms to build, comma-separated (default: paved.yaml's)")
	fs.StringVar(&o.VulnDB, "vuln-db", "", "air-gapped vulnerability database directory")
	fs.StringVar(&cacheDir, "cache-dir", "", "step cache directory (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if platform != "" {
		o.Platforms = []string{platform}
	}
	// The one line that makes this in-process.
	o.Executor = work.Executor{}

	prepared, err := goservice.Path(ctx, o)
	if err != nil {
		return err
	}
	display := runner.NewDisplay(stderr)
	r := &runner.Runner{Progress: display}
	if cacheDir != "" {
		if r.Cache, err = runner.NewCache(filepath.Clean(cacheDir)); err != nil {
			return err
		}
	}
	rep, err := prepared.Execute(ctx, r)
	display.Close()
	if err != nil {
		return err
	}
	if rep.Image == nil {
		return fmt.Errorf("the run published no image")
	}
	fmt.Fprintln(stdout, rep.Image.Ref)
	return nil
}
