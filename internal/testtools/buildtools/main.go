// Command buildtools builds every reference tool the tests use
// (toolcache.Tools) into the tool cache, so CI pays for the build once,
// before the tests, rather than inside a test's deadline.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pavedhq/paved/internal/testtools/toolcache"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, tool := range toolcache.Tools {
		start := time.Now()
		path, err := tool.Install(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "buildtools:", err)
			os.Exit(1)
		}
		fmt.Printf("%s@%s: %s (%s)\n", tool.Pkg, tool.Version, path, time.Since(start).Round(time.Millisecond))
	}
}
