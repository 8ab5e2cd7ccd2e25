package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets the README quotes.
const (
	buildTarget   = 1.0 // paved build / ko build
	warmTarget    = 2.0 // warm run, percent of cold
	versionTarget = 50 * time.Millisecond
	memoryTarget  = 1 << 30 // bytes
)

type results struct {
	cfg       config
	start     time.Time
	goVersion string
	koVersion string
	load      string

	pavedBuild, koBuild []measurement
	coldRun, warmRun    []measurement
	version             []measurement

	// steps holds the durations of each paved step, per benchmark, in the
	// order the reports list them.
	steps     map[string]map[string][]time.Duration
	stepOrder map[string][]string

	failures []string
}

func (r *results) fail(msg string) { r.failures = append(r.failures, msg) }

func (r *results) addSteps(bench, report string) error {
	steps, err := readSteps(report)
	if err != nil {
		return err
	}
	if r.steps == nil {
		r.steps = map[string]map[string][]time.Duration{}
		r.stepOrder = map[string][]string{}
	}
	if r.steps[bench] == nil {
		r.steps[bench] = map[string][]time.Duration{}
	}
	for _, s := range steps {
		if _, ok := r.steps[bench][s.Name]; !ok {
			r.stepOrder[bench] = append(r.stepOrder[bench], s.Name)
		}
		r.steps[bench][s.Name] = append(r.steps[bench][s.Name], time.Duration(s.DurationMs)*time.Millisecond)
	}
	return nil
}

func walls(ms []measurement) []time.Duration {
	d := make([]time.Duration, len(ms))
	for i, m := range ms {
		d[i] = m.wall
	}
	return d
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minimum(d []time.Duration) time.Duration { return slices.Min(d) }

func digests(ms []measurement) []string {
	var ds []string
	for _, m := range ms {
		if m.digest != "" && !slices.Contains(ds, m.digest) {
			ds = append(ds, m.digest)
		}
	}
	return ds
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// verdict says met, or missed and by how much relative to the target.
func verdict(ok bool, by string) string {
	if ok {
		return "met"
	}
	return "**missed** by " + by
}

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(cells ...string) { p("| %s |\n", strings.Join(cells, " | ")) }
	n := r.cfg.rounds

	p("# paved benchmarks\n\n")
	p("%s · %d CPUs · %s/%s · %s · ko %s · %d round(s), alternating order · load average at start %s\n\n",
		r.start.Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		r.goVersion, strings.TrimPrefix(r.koVersion, "v"), n, r.load)

	row("Benchmark", "paved", "reference", "ratio", "target", "result")
	row("---", "---:", "---:", "---:", "---", "---")

	pb, kb := median(walls(r.pavedBuild)), median(walls(r.koBuild))
	ratio := pb.Seconds() / kb.Seconds()
	row("build linux/amd64+arm64, median", secs(pb), "ko "+secs(kb), fmt.Sprintf("%.2f×", ratio),
		fmt.Sprintf("≤ %.1f× ko", buildTarget), verdict(ratio <= buildTarget, fmt.Sprintf("%.0f%%", (ratio/buildTarget-1)*100)))
	pbm, kbm := minimum(walls(r.pavedBuild)), minimum(walls(r.koBuild))
	row("build linux/amd64+arm64, min", secs(pbm), "ko "+secs(kbm), fmt.Sprintf("%.2f×", pbm.Seconds()/kbm.Seconds()), "", "")

	cold, warm := median(walls(r.coldRun)), median(walls(r.warmRun))
	pct := 100 * warm.Seconds() / cold.Seconds()
	row("run go-service, warm cache, median", "warm "+secs(warm), "cold "+secs(cold), fmt.Sprintf("%.2f %%", pct),
		fmt.Sprintf("≤ %.0f %% of cold", warmTarget), verdict(pct <= warmTarget, fmt.Sprintf("%.2f points", pct-warmTarget)))
	cm, wm := minimum(walls(r.coldRun)), minimum(walls(r.warmRun))
	row("run go-service, warm cache, min", "warm "+secs(wm), "cold "+secs(cm), fmt.Sprintf("%.2f %%", 100*wm.Seconds()/cm.Seconds()), "", "")

	v := median(walls(r.version))
	row(fmt.Sprintf("paved version, median of %d", len(r.version)), millis(v), "", "", "< 50 ms",
		verdict(v < versionTarget, millis(v-versionTarget)))

	var peak int64
	for _, m := range r.coldRun {
		peak = max(peak, m.maxRSS)
	}
	row("peak RSS, cold run go-service", mib(peak), "", "", "< 1 GiB", verdict(peak < memoryTarget, mib(peak-memoryTarget)))

	pd := digests(r.coldRun)
	row(fmt.Sprintf("reproducible: run digests, %d cold caches", len(r.coldRun)), fmt.Sprintf("%d distinct", len(pd)), "", "",
		"all equal", verdict(len(pd) == 1, fmt.Sprintf("%d distinct", len(pd))))
	kd, bd := digests(r.koBuild), digests(r.pavedBuild)
	row(fmt.Sprintf("reproducible: build digests, %d runs", n), fmt.Sprintf("%d distinct", len(bd)), fmt.Sprintf("ko %d distinct", len(kd)), "",
		"informative", "")

	p("\nRatios are of medians (build: paved/ko; run: warm/cold). Peak RSS is ru_maxrss: the largest single process of the run, paved or a go command it started.\n")

	p("\n## Digests\n\n")
	p("- paved run (cold caches): %s\n", strings.Join(code(pd), ", "))
	p("- paved build: %s\n", strings.Join(code(bd), ", "))
	p("- ko build: %s\n", strings.Join(code(kd), ", "))

	p("\n## Where paved's time goes\n\n")
	p("Median step durations from the run reports (steps may overlap).\n\n")
	for _, bench := range []string{"build", "run-cold", "run-warm"} {
		title := map[string]string{"build": "paved build", "run-cold": "paved run, cold cache", "run-warm": "paved run, warm cache"}[bench]
		var cells []string
		for _, s := range r.stepOrder[bench] {
			cells = append(cells, fmt.Sprintf("%s %s", s, millis(median(r.steps[bench][s]))))
		}
		p("- %s: %s\n", title, strings.Join(cells, ", "))
	}
	p("- process start and exit, as `paved version`: %s\n", millis(v))

	p("\n## Rounds\n\n")
	row("round", "paved build", "ko build", "run cold", "run warm")
	row("---:", "---:", "---:", "---:", "---:")
	for i := range n {
		row(fmt.Sprint(i+1), secs(r.pavedBuild[i].wall), secs(r.koBuild[i].wall), secs(r.coldRun[i].wall), secs(r.warmRun[i].wall))
	}
	if len(r.failures) > 0 {
		p("\n## Failures\n\n")
		for _, f := range r.failures {
			p("- %s\n", f)
		}
	}
	return b.String()
}

func code(ss []string) []string {
	if len(ss) == 0 {
		return []string{"none"}
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}
