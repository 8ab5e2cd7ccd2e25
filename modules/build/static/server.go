package static

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config is how the server runs. Flags win over the environment, which
// wins over the defaults.
type Config struct {
	Port     int    // --port, $PORT; default 8080; 0 picks a free port
	Root     string // --root, $PAVED_STATIC_ROOT; required
	Health   string // --health, $PAVED_STATIC_HEALTH; default /healthz
	Shutdown time.Duration
}

// ParseConfig reads flags and the environment (lookupEnv has
// os.LookupEnv's shape). Errors name the flag or the variable at fault.
func ParseConfig(args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	c := Config{Port: 8080, Health: "/healthz", Shutdown: 10 * time.Second}
	if v := getenv("PORT"); v != "" {
		p, err := parsePort(v)
		if err != nil {
			return c, fmt.Errorf("$PORT: %w", err)
		}
		c.Port = p
	}
	if v := getenv("PAVED_STATIC_ROOT"); v != "" {
		c.Root = v
	}
	if v, ok := lookupEnv("PAVED_STATIC_HEALTH"); ok {
		c.Health = v
	}
	fl := flag.NewFlagSet("paved-static", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	port := fl.String("port", "", "port to listen on, all interfaces ($PORT; default 8080)")
	fl.StringVar(&c.Root, "root", c.Root, "directory to serve ($PAVED_STATIC_ROOT)")
	fl.StringVar(&c.Health, "health", c.Health, `health endpoint path, "" for none ($PAVED_STATIC_HEALTH)`)
	fl.DurationVar(&c.Shutdown, "shutdown-timeout", c.Shutdown, "how long requests in flight may take after SIGTERM")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	if fl.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	if *port != "" {
		p, err := parsePort(*port)
		if err != nil {
			return c, fmt.Errorf("--port: %w", err)
		}
		c.Port = p
	}
	if c.Root == "" {
		return c, errors.New("--root (or $PAVED_STATIC_ROOT) is required")
	}
	if c.Health != "" && (!strings.HasPrefix(c.Health, "/") || strings.ContainsAny(c.Health, "?#")) {
		return c, fmt.Errorf("--health: %q is not a path starting with /", c.Health)
	}
	if c.Shutdown < 0 {
		return c, fmt.Errorf("--shutdown-timeout: %v is negative", c.Shutdown)
	}
	return c, nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("%q is not a port number", s)
	}
	return p, nil
}

// Serve serves c.Root until ctx ends, then lets the requests in flight
// finish for up to c.Shutdown. ready, when not nil, is told the address it
// listens on once it accepts connections.
func Serve(ctx context.Context, c Config, log io.Writer, ready func(net.Addr)) error {
	root, err := os.OpenRoot(c.Root)
	if err != nil {
		return fmt.Errorf("--root: %w", err)
	}
	defer root.Close()
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(c.Port))
	if err != nil {
		return fmt.Errorf("--port: %w", err)
	}
	srv := &http.Server{
		Handler:           Handler(root.FS(), c.Health),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(log, "paved-static: serving %s on %s\n", c.Root, ln.Addr())
	if ready != nil {
		ready(ln.Addr())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(log, "paved-static: shutting down\n")
	sctx, cancel := context.WithTimeout(context.Background(), c.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Main is the paved-static command: it serves until SIGTERM or SIGINT and
// returns the exit code (2 for bad flags or environment, 1 when serving
// fails).
func Main(args []string) int {
	c, err := ParseConfig(args, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "paved-static: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Serve(ctx, c, os.Stderr, nil); err != nil {
		fmt.Fprintf(os.Stderr, "paved-static: %v\n", err)
		return 1
	}
	return 0
}
