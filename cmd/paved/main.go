// Command paved runs golden paths: paved's CLI front door.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/pavedhq/paved/internal/commands"

	// The golden paths this binary offers.
	_ "github.com/pavedhq/paved/pipelines/goservice"
)

// version is set at link time (-X main.version=...); otherwise it comes
// from the module's build information.
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
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
