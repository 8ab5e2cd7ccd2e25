// Command dora benchmarks the DORA collector: durable ingest over HTTP into
// SQLite and PostgreSQL, and the four keys for every team over a generated
// year. It writes its figures to stdout and into bench/results.md, between
// the "dora benchmark" markers (replacing what an earlier run wrote there).
//
//	go run ./bench/dora                    # 150 teams, a year, both databases
//	go run ./bench/dora -postgres=false    # SQLite only
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/dora/synth"
	"github.com/pavedhq/paved/internal/testtools/pgtest"
)

var (
	cpuProfile    = flag.String("cpuprofile", "", "write a CPU profile of the keys' computation to this file (suffixed with the database)")
	ingestProfile = flag.String("ingestprofile", "", "write a CPU profile of the ingest to this file (suffixed with the database)")
)

func main() {
	teams := flag.Int("teams", 150, "teams to generate")
	days := flag.Int("days", 365, "days of history")
	seed := flag.Uint64("seed", 1, "generator seed")
	batch := flag.Int("batch", 1000, "events per request")
	clients := flag.Int("clients", 4, "concurrent senders")
	queries := flag.Int("queries", 7, "times the four keys are computed (median reported)")
	pg := flag.Bool("postgres", true, "also benchmark PostgreSQL (needs its server binaries)")
	out := flag.String("out", "bench/results.md", "results file to update")
	flag.Parse()
	if err := run(*teams, *days, *seed, *batch, *clients, *queries, *pg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench/dora:", err)
		os.Exit(1)
	}
}

type result struct {
	backend           string
	events, requests  int
	ingest, cpu       time.Duration // wall clock, and CPU time of this process (collector and senders)
	mallocs           uint64        // heap allocations of this process over the ingest
	query, queryMin   time.Duration
	cold              time.Duration // the first query of a newly opened store
	rows, totals, dep int
}

func run(teams, days int, seed uint64, batch, clients, queries int, pg bool, out string) error {
	load, _ := os.ReadFile("/proc/loadavg")
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	t0 := time.Now()
	h := synth.Generate(synth.Config{Seed: seed, Teams: teams, Days: days, Start: start, Pipeline: true})
	gen := time.Since(t0)
	mix := map[string]int{}
	for _, e := range h.Events {
		parts := strings.Split(e.Type, ".")
		mix[parts[2]+"."+parts[3]]++
	}
	var truthDeps, services int
	for _, tr := range h.Truth {
		truthDeps += tr.Deployments
		services++
	}
	// The senders' work (encoding) is done before the clock starts.
	var bodies [][]byte
	var bytesTotal int
	for i := 0; i < len(h.Events); i += batch {
		b, err := json.Marshal(h.Events[i:min(i+batch, len(h.Events))])
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
		bytesTotal += len(b)
	}
	fmt.Printf("generated %d events (%d services, %d deployments) in %s; %d requests of %d events, %.1f MB\n",
		len(h.Events), services, truthDeps, gen.Round(time.Millisecond), len(bodies), batch, float64(bytesTotal)/1e6)

	q := dora.Query{From: start, To: start.AddDate(0, 0, days), Bucket: dora.Week}
	var results []result
	dir, err := os.MkdirTemp("", "dora-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dsns := []struct{ name, dsn string }{{"SQLite (WAL, synchronous=FULL)", filepath.Join(dir, "dora.db")}}
	if pg {
		srv, err := pgtest.Launch(pgtest.Options{}) // fsync on: durable commits
		if err != nil {
			return fmt.Errorf("PostgreSQL: %w (run with -postgres=false to skip it)", err)
		}
		defer srv.Stop()
		dsns = append(dsns, struct{ name, dsn string }{"PostgreSQL 15 (fsync on, unix socket)", srv.DSN})
	}
	for _, d := range dsns {
		r, err := bench(d.name, d.dsn, bodies, len(h.Events), clients, queries, q)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		if r.dep != truthDeps {
			return fmt.Errorf("%s: the keys count %d deployments, the generator made %d", d.name, r.dep, truthDeps)
		}
		if r.totals != services {
			return fmt.Errorf("%s: %d totals, want one per service (%d)", d.name, r.totals, services)
		}
		results = append(results, r)
		fmt.Printf("%s: ingest CPU %.1f µs and %.1f allocations per event\n", d.name, float64(r.cpu.Microseconds())/float64(r.events), float64(r.mallocs)/float64(r.events))
		fmt.Printf("%s: ingest %d events in %s = %.0f events/s; four keys for %d teams (%d rows) median %s, min %s; first query after a restart %s\n",
			d.name, r.events, r.ingest.Round(time.Millisecond), float64(r.events)/r.ingest.Seconds(), teams, r.rows, r.query.Round(time.Millisecond), r.queryMin.Round(time.Millisecond), r.cold.Round(time.Millisecond))
	}

	var md strings.Builder
	fmt.Fprintf(&md, "## DORA collector\n\n%s UTC · %d CPUs · %s/%s · %s · load average at start %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&md, "`go run ./bench/dora`: %d teams, %d services, %d days generated by `dora/synth` (seed %d): %d events, %d deployments. Mix: %s.\n\n",
		teams, services, days, seed, len(h.Events), truthDeps, mixString(mix))
	fmt.Fprintf(&md, "Ingest: %d clients POST `/v1/events` over loopback HTTP, %d events per `application/cloudevents-batch+json` request (%d requests, %.1f MB); each request is decoded, validated and committed in one transaction before its 200. CPU µs per event is the user and system time of the benchmark process (collector and senders; PostgreSQL's server processes not included) over the ingest, divided by the events. Keys: `Store.Metrics` for all teams over the period, weekly buckets, median of %d runs, on the store that ingested (it answered one query before the ingest, so its in-memory view followed the ingest); the last column is the first query of a store opened afresh on the same database, which loads the view.\n\n",
		clients, batch, len(bodies), float64(bytesTotal)/1e6, queries)
	fmt.Fprintf(&md, "| database | ingest, events/s | ingest time | CPU µs per event | target | four keys, %d teams × %d days (median / min) | target | first query after a restart |\n| --- | ---: | ---: | ---: | --- | ---: | --- | ---: |\n", teams, days)
	for _, r := range results {
		eps := float64(r.events) / r.ingest.Seconds()
		ingestTarget, keysTarget := "", verdict(r.query < 500*time.Millisecond, "< 500 ms")
		if strings.HasPrefix(r.backend, "SQLite") {
			ingestTarget = verdict(eps >= 20000, "≥ 20,000/s")
		}
		fmt.Fprintf(&md, "| %s | %.0f | %s | %.1f | %s | %s / %s | %s | %s |\n", r.backend, eps, r.ingest.Round(time.Millisecond), float64(r.cpu.Microseconds())/float64(r.events), ingestTarget,
			r.query.Round(time.Millisecond), r.queryMin.Round(time.Millisecond), keysTarget, r.cold.Round(time.Millisecond))
	}
	fmt.Print("\n" + md.String())
	return update(out, md.String())
}

func verdict(ok bool, target string) string {
	if ok {
		return target + ": met"
	}
	return target + ": **missed**"
}

func mixString(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func bench(name, dsn string, bodies [][]byte, events, clients, queries int, q dora.Query) (result, error) {
	ctx := context.Background()
	r := result{backend: name, events: events, requests: len(bodies)}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return r, err
	}
	defer st.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	srv := &http.Server{Handler: ingest.Handler(st, ingest.Options{MaxBytes: 16 << 20, OnError: func(err error) { fmt.Fprintln(os.Stderr, "collector:", err) }})}
	go srv.Serve(l)
	defer srv.Close()
	url := "http://" + l.Addr().String() + "/v1/events"

	// A collector that has answered a query keeps its in-memory view up to
	// date as it ingests; this one answers one before the ingest, as a
	// running collector would have.
	if _, err := st.Metrics(ctx, q); err != nil {
		return r, err
	}
	work := make(chan []byte)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	if *ingestProfile != "" {
		f, err := os.Create(*ingestProfile + "." + strings.Fields(name)[0])
		if err != nil {
			return r, err
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs0 := ms.Mallocs
	cpu0 := cpuTime()
	t0 := time.Now()
	for range clients {
		wg.Go(func() {
			for b := range work {
				resp, err := http.Post(url, ingest.Batch, bytes.NewReader(b))
				if err != nil {
					errs <- err
					return
				}
				var ack ingest.Response
				json.NewDecoder(resp.Body).Decode(&ack)
				resp.Body.Close()
				if resp.StatusCode != 200 || ack.Added != ack.Received {
					errs <- fmt.Errorf("POST: %s, %+v", resp.Status, ack)
					return
				}
			}
		})
	}
	for _, b := range bodies {
		select {
		case work <- b:
		case err := <-errs:
			close(work)
			return r, err
		}
	}
	close(work)
	wg.Wait()
	r.ingest = time.Since(t0)
	r.cpu = cpuTime() - cpu0
	runtime.ReadMemStats(&ms)
	r.mallocs = ms.Mallocs - mallocs0
	if *ingestProfile != "" {
		pprof.StopCPUProfile()
	}
	select {
	case err := <-errs:
		return r, err
	default:
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile + "." + strings.Fields(name)[0])
		if err != nil {
			return r, err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// The first query of a collector just started reads everything.
	cold, err := store.Open(ctx, dsn)
	if err != nil {
		return r, err
	}
	t1 := time.Now()
	if _, err := cold.Metrics(ctx, q); err != nil {
		cold.Close()
		return r, err
	}
	r.cold = time.Since(t1)
	cold.Close()

	var times []time.Duration
	for range queries {
		t := time.Now()
		rep, err := st.Metrics(ctx, q)
		if err != nil {
			return r, err
		}
		times = append(times, time.Since(t))
		r.rows, r.totals, r.dep = len(rep.Rows), len(rep.Totals), 0
		for _, tot := range rep.Totals {
			r.dep += tot.Deployments
		}
	}
	slices.Sort(times)
	r.query, r.queryMin = times[len(times)/2], times[0]
	return r, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

const begin, end = "<!-- dora benchmark: begin -->", "<!-- dora benchmark: end -->"

// update replaces the DORA section of the results file, or appends it.
func update(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	s := string(old)
	block := begin + "\n" + section + end + "\n"
	if i, j := strings.Index(s, begin), strings.Index(s, end); i >= 0 && j > i {
		s = s[:i] + block + strings.TrimPrefix(s[j+len(end):], "\n")
	} else {
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			s += "\n"
		}
		s += block
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
