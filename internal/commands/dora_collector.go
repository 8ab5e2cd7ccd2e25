package commands

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/api"
	"github.com/pavedhq/paved/dora/auth"
	"github.com/pavedhq/paved/dora/export"
	"github.com/pavedhq/paved/dora/server"
	"github.com/pavedhq/paved/internal/atomicfile"
)

// DoraTokenEnv holds the bearer token `paved dora metrics|export --server`
// sends (never a flag, so it stays out of shell history and ps).
const DoraTokenEnv = "PAVED_DORA_TOKEN"

func newDoraServe() *cobra.Command {
	var dsn, addr, tokens, tlsCert, tlsKey string
	var window time.Duration
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the collector: event ingest, the JSON API, Prometheus metrics and the dashboard",
		Example: `  paved dora serve --db dora.db --addr 127.0.0.1:8080 --tokens tokens.yaml
  paved dora serve --db postgres://dora@db/dora --addr :8080 --tokens /etc/paved/tokens.yaml`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case dsn == "":
				return &UsageError{Err: errors.New("--db: required (a SQLite file path or a postgres:// URL)")}
			case tokens == "":
				return &UsageError{Err: errors.New("--tokens: required (the tokens file; see the README)")}
			case (tlsCert == "") != (tlsKey == ""):
				return &UsageError{Err: errors.New("--tls-cert and --tls-key go together")}
			}
			var tlsConfig *tls.Config
			if tlsCert != "" {
				cert, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
				if err != nil {
					return &UsageError{Err: fmt.Errorf("--tls-cert/--tls-key: %w", err)}
				}
				tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			set, err := auth.Load(tokens)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("--tokens: %w", err)}
			}
			col, err := openCollector(c.Context(), dsn)
			if err != nil {
				return err
			}
			defer col.close()
			stderr := c.ErrOrStderr()
			h := server.New(col.metrics, col.ingest, set, server.Options{
				Window: window,
				Log: func(r *http.Request, err error) {
					fmt.Fprintf(stderr, "paved dora serve: %s %s: %s\n", r.Method, r.URL.Path, Message(err))
				},
			})
			return serve(c.Context(), addr, h, tlsConfig, stderr)
		},
	}
	c.Flags().StringVar(&dsn, "db", "", "the collector's database: a SQLite file path, or a postgres:// URL")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	c.Flags().StringVar(&tokens, "tokens", "", "tokens file: SHA-256 of each token with its teams, rights and rate")
	c.Flags().DurationVar(&window, "window", 0, "trailing period of the /metrics gauges (default 720h)")
	c.Flags().StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM), with --tls-key")
	c.Flags().StringVar(&tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	return c
}

// serve runs h on addr (with TLS when tlsConfig is set) until ctx ends,
// then lets requests in flight finish.
func serve(ctx context.Context, addr string, h http.Handler, tlsConfig *tls.Config, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--addr: %w", err)}
	}
	scheme := "https"
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	} else {
		scheme = "http"
		if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
			fmt.Fprintf(stderr, "paved dora: warning: plain HTTP on %s: tokens travel in clear unless a TLS proxy is in front (or give --tls-cert and --tls-key)\n", ln.Addr())
		}
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(stderr, "paved dora: listening on %s://%s\n", scheme, ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// doraSource is where metrics and export read the keys: a collector's API
// or its database.
type doraSource struct {
	server, dsn string
	query       map[string]*string
}

func (s *doraSource) add(fs *pflag.FlagSet) {
	fs.StringVar(&s.server, "server", "", "collector URL (token from $"+DoraTokenEnv+")")
	fs.StringVar(&s.dsn, "db", "", "read the collector's database directly: a SQLite file path or a postgres:// URL")
	s.query = map[string]*string{}
	for _, p := range []struct{ name, usage string }{
		{"team", "only this team"},
		{"service", "only this service"},
		{"environment", "environment (default production)"},
		{"from", "start: RFC 3339 time or YYYY-MM-DD, UTC (default 90 days before --to)"},
		{"to", "end, exclusive: RFC 3339 time or YYYY-MM-DD, UTC (default now)"},
		{"bucket", "period of each row: day, week or month (default week)"},
	} {
		s.query[p.name] = fs.String(p.name, "", p.usage)
	}
}

// open returns the source and the query the flags ask for.
func (s *doraSource) open(ctx context.Context) (dora.Metrics, dora.Query, func() error, error) {
	v := url.Values{}
	for k, p := range s.query {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	q, err := api.ParseQuery(v, time.Now())
	if err != nil {
		var pe *api.ParamError
		if errors.As(err, &pe) {
			return nil, q, nil, &UsageError{Err: fmt.Errorf("--%s: %s", pe.Param, pe.Msg)}
		}
		return nil, q, nil, err
	}
	switch {
	case (s.server == "") == (s.dsn == ""):
		return nil, q, nil, &UsageError{Err: errors.New("give one of --server URL and --db DSN")}
	case s.server != "":
		token := os.Getenv(DoraTokenEnv)
		if token == "" {
			return nil, q, nil, &UsageError{Err: fmt.Errorf("--server: set $%s to a token with the read right", DoraTokenEnv)}
		}
		cl, err := api.NewClient(s.server, token)
		if err != nil {
			return nil, q, nil, &UsageError{Err: fmt.Errorf("--server: %w", err)}
		}
		return cl, q, func() error { return nil }, nil
	default:
		col, err := openCollector(ctx, s.dsn)
		if err != nil {
			return nil, q, nil, err
		}
		return col.metrics, q, col.close, nil
	}
}

func newDoraMetrics() *cobra.Command {
	var src doraSource
	var asJSON, rows bool
	c := &cobra.Command{
		Use:   "metrics",
		Short: "Print the four keys per team and service",
		Example: `  PAVED_DORA_TOKEN=... paved dora metrics --server https://dora.example.com --team payments
  paved dora metrics --db dora.db --from 2026-01-01 --bucket month --rows
  paved dora metrics --db dora.db --json`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			m, q, closeFn, err := src.open(c.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := m.Metrics(c.Context(), q)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(c.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(api.NewResponse(rep))
			}
			return printKeys(c.OutOrStdout(), rep, rows)
		},
	}
	src.add(c.Flags())
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON (the API's rows and totals)")
	c.Flags().BoolVar(&rows, "rows", false, "also print one line per bucket")
	return c
}

// printKeys writes the totals (and with rows, each bucket) as a table.
func printKeys(w io.Writer, r *dora.Report, rows bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	q := r.Query
	fmt.Fprintf(tw, "%s, %s to %s (by %s)\n\n", q.Environment, q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339), q.Bucket)
	fmt.Fprintln(tw, "TEAM\tSERVICE\tDEPLOYS\tPER DAY\tLEAD TIME MEDIAN\tP90\tCHANGE FAILURE\tRESTORE MEDIAN\tP90\tBANDS (DF/LT/CFR/TTR)")
	for _, t := range r.Totals {
		b := t.Bands
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s/%s/%s/%s\n", t.Team, t.Service, t.Deployments, t.DeploymentsPerDay,
			stat(t.LeadTime, t.LeadTime.Median), stat(t.LeadTime, t.LeadTime.P90), failure(t.Keys),
			stat(t.TimeToRestore, t.TimeToRestore.Median), stat(t.TimeToRestore, t.TimeToRestore.P90),
			band(b.DeploymentFrequency), band(b.LeadTime), band(b.ChangeFailureRate), band(b.TimeToRestore))
	}
	if len(r.Totals) == 0 {
		fmt.Fprintln(tw, "(no deployments or incidents)")
	}
	if rows {
		fmt.Fprintln(tw, "\nSTART\tTEAM\tSERVICE\tDEPLOYS\tLEAD TIME MEDIAN\tCHANGE FAILURE\tRESTORE MEDIAN")
		for _, x := range r.Rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", x.Start.UTC().Format(time.DateOnly), x.Team, x.Service, x.Deployments,
				stat(x.LeadTime, x.LeadTime.Median), failure(x.Keys), stat(x.TimeToRestore, x.TimeToRestore.Median))
		}
	}
	return tw.Flush()
}

func stat(s dora.Stat, d time.Duration) string {
	if s.Count == 0 {
		return "-"
	}
	return human(d)
}

// human is a duration to the minute with days: 2d14h49m, 3h5m, 45s.
func human(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

func failure(k dora.Keys) string {
	if k.Deployments == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*k.ChangeFailureRate, k.FailedDeployments, k.Deployments)
}

func band(b dora.Band) string {
	if b == "" {
		return "-"
	}
	return string(b)
}

func newDoraExport() *cobra.Command {
	var src doraSource
	var format, out string
	c := &cobra.Command{
		Use:     "export",
		Short:   "Write the four keys for a warehouse: one row per team, service and bucket",
		Example: `  paved dora export --db dora.db --format parquet --out dora.parquet --from 2026-01-01 --bucket day`,
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			switch {
			case format != "parquet":
				return &UsageError{Err: fmt.Errorf("--format: %q is not a format paved exports (parquet)", format)}
			case out == "":
				return &UsageError{Err: errors.New("--out: required (the file to write)")}
			}
			m, q, closeFn, err := src.open(c.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			rep, err := m.Metrics(c.Context(), q)
			if err != nil {
				return err
			}
			if err := atomicfile.Write(out, 0o644, func(w io.Writer) error { return export.Parquet(w, rep) }); err != nil {
				return fmt.Errorf("--out %s: %w", out, err)
			}
			fmt.Fprintf(c.ErrOrStderr(), "paved: wrote %d rows to %s\n", len(rep.Rows), strings.TrimSpace(out))
			return nil
		},
	}
	src.add(c.Flags())
	c.Flags().StringVar(&format, "format", "parquet", "file format: parquet (zstd-compressed)")
	c.Flags().StringVar(&out, "out", "", "file to write")
	return c
}
