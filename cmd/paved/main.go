// Command paved runs golden paths: paved's CLI front door.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pavedhq/paved/internal/commands"
	pavedversion "github.com/pavedhq/paved/internal/version"

	// The golden paths this binary offers.
	_ "github.com/pavedhq/paved/pipelines/frontend"
	_ "github.com/pavedhq/paved/pipelines/goservice"
	_ "github.com/pavedhq/paved/pipelines/pythonbatch"
	_ "github.com/pavedhq/paved/pipelines/tsservice"
)

// version is set at link time (-X main.version=...); otherwise it comes
// from the build information: the release, or the commit of a checkout.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := commands.New(buildVersion(), os.Stdout, os.Stderr).ExecuteContext(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "paved: %s\n", commands.Message(err))
	}
	os.Exit(commands.ExitCode(err))
}

func buildVersion() string {
	if version != "" {
		return version
	}
	return pavedversion.Module(pavedversion.Paved)
}
