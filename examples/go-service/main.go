// Command go-service is a small notes API used as the example service for
// paved's Go golden path.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pavedhq/paved/examples/go-service/internal/server"
	"github.com/pavedhq/paved/examples/go-service/internal/store"
	buildinfo "github.com/pavedhq/paved/examples/go-service/internal/version"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "go-service:", err)
		os.Exit(1)
	}
}

// defaultAddr returns the listen address used when -addr is not given:
// ":$PORT" if PORT is set, ":8080" otherwise.
func defaultAddr(port string) string {
	if port == "" {
		return ":8080"
	}
	return ":" + port
}

// run parses args, serves the API until ctx is cancelled, then shuts down
// gracefully. Logs are written to stdout as JSON lines; the first one is
// {"msg":"listening","addr":...}.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("go-service", flag.ContinueOnError)
	fs.SetOutput(stdout)
	addr := fs.String("addr", defaultAddr(os.Getenv("PORT")), "listen address (default from $PORT)")
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "time allowed for in-flight requests on shutdown")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	logger := slog.New(slog.NewJSONHandler(stdout, nil))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           server.New(store.New(), buildinfo.Get(version)),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", version)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
