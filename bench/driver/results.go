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
	buildTarget     = 1.0 // paved build / ko build, warm Go build cache
	buildColdTarget = 0.9 // the same, each with its own empty Go build cache
	warmTarget      = 2.0 // warm run, percent of cold
	versionTarget   = 50 * time.Millisecond
	memoryTarget    = 1 << 30   // bytes, a run without signing
	vsMemoryTarget  = 768 << 20 // bytes, the golden path with signing
	vsEmptyTarget   = 0.6       // paved run / reference CLIs, empty Go build cache
	vsWarmTarget    = 0.35      // the same, warm Go build cache, one line changed
	scanTarget      = 1.0       // paved's scan step / the CLIs' trivy and govulncheck
)

type results struct {
	cfg       config
	start     time.Time
	goVersion string
	koVersion string
	load      string

	pavedBuild, koBuild         []measurement
	pavedBuildCold, koBuildCold []measurement // each with its own empty GOCACHE
	coldRun, warmRun            []measurement
	version                     []measurement

	// The golden path against the reference CLIs, by scenario (vsEmpty,
	// vsWarm).
	vsPaved map[string][]measurement
	vsRef   map[string][]refRun

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

// spread is the range of d, "min–max".
func spread(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f–%.2f s", slices.Min(d).Seconds(), slices.Max(d).Seconds())
}

// spreadRow is the range of paved's and the reference's times over the
// rounds, and of the ratios within each round (the two sides of a round
// ran one after the other, so a busier machine weighs on both).
func spreadRow(title string, paved, ref []time.Duration, refName string) []string {
	var ratios []float64
	for i := range min(len(paved), len(ref)) {
		if ref[i] > 0 {
			ratios = append(ratios, paved[i].Seconds()/ref[i].Seconds())
		}
	}
	ratio := ""
	if len(ratios) > 0 {
		ratio = fmt.Sprintf("%.2f–%.2f×", slices.Min(ratios), slices.Max(ratios))
	}
	return []string{title, spread(paved), refName + " " + spread(ref), ratio, "", ""}
}

func totals(rs []refRun) []time.Duration {
	d := make([]time.Duration, len(rs))
	for i, r := range rs {
		d[i] = r.total
	}
	return d
}

// ratioRow is a row comparing paved with a reference against a target ratio.
func ratioRow(title string, paved, ref time.Duration, refName string, target float64) []string {
	ratio := paved.Seconds() / ref.Seconds()
	t, v := "", ""
	if target > 0 {
		t = fmt.Sprintf("≤ %g× %s", target, refName)
		v = verdict(ratio <= target, fmt.Sprintf("%.0f%%", (ratio/target-1)*100))
	}
	return []string{title, secs(paved), refName + " " + secs(ref), fmt.Sprintf("%.2f×", ratio), t, v}
}

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
	basic := r.cfg.only != "reference"
	vs := r.cfg.only != "basic"

	p("# paved benchmarks\n\n")
	p("%s · %d CPUs · %s/%s · %s · ko %s · %d round(s), alternating order · load average at start %s\n\n",
		r.start.Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		r.goVersion, strings.TrimPrefix(r.koVersion, "v"), n, r.load)
	if vs && r.cfg.toolVersions != "" {
		p("Reference CLIs: %s\n\n", r.cfg.toolVersions)
	}
	if !basic {
		p("Only the comparison with the reference CLIs ran (`BENCH_ONLY=reference`).\n\n")
	}
	if !vs {
		p("The comparison with the reference CLIs did not run (`BENCH_ONLY=basic`).\n\n")
	}

	row("Benchmark", "paved", "reference", "ratio", "target", "result")
	row("---", "---:", "---:", "---:", "---", "---")

	v := median(walls(r.version))
	var pd, kd, bd []string
	if basic {
		pb, kb := median(walls(r.pavedBuild)), median(walls(r.koBuild))
		row(ratioRow("build linux/amd64+arm64, median", pb, kb, "ko", buildTarget)...)
		row(spreadRow("build linux/amd64+arm64, spread (min–max)", walls(r.pavedBuild), walls(r.koBuild), "ko")...)
		pc, kc := median(walls(r.pavedBuildCold)), median(walls(r.koBuildCold))
		row(ratioRow("build linux/amd64+arm64, empty Go cache, median", pc, kc, "ko", buildColdTarget)...)
		row(spreadRow("build linux/amd64+arm64, empty Go cache, spread (min–max)", walls(r.pavedBuildCold), walls(r.koBuildCold), "ko")...)

		cold, warm := median(walls(r.coldRun)), median(walls(r.warmRun))
		pct := 100 * warm.Seconds() / cold.Seconds()
		row("run go-service, warm cache, median", "warm "+secs(warm), "cold "+secs(cold), fmt.Sprintf("%.2f %%", pct),
			fmt.Sprintf("≤ %.0f %% of cold", warmTarget), verdict(pct <= warmTarget, fmt.Sprintf("%.2f points", pct-warmTarget)))
		row("run go-service, warm cache, spread (min–max)", "warm "+spread(walls(r.warmRun)), "cold "+spread(walls(r.coldRun)), "", "", "")

		row(fmt.Sprintf("paved version, median of %d", len(r.version)), millis(v), "", "", "< 50 ms",
			verdict(v < versionTarget, millis(v-versionTarget)))

		var peak int64
		for _, m := range r.coldRun {
			peak = max(peak, m.maxRSS)
		}
		row("peak RSS, cold run go-service", mib(peak), "", "", "< 1 GiB", verdict(peak < memoryTarget, mib(peak-memoryTarget)))

		pd = digests(r.coldRun)
		row(fmt.Sprintf("reproducible: run digests, %d cold caches", len(r.coldRun)), fmt.Sprintf("%d distinct", len(pd)), "", "",
			"all equal", verdict(len(pd) == 1, fmt.Sprintf("%d distinct", len(pd))))
		kd, bd = digests(r.koBuild), digests(r.pavedBuild)
		row(fmt.Sprintf("reproducible: build digests, %d runs", n), fmt.Sprintf("%d distinct", len(bd)), fmt.Sprintf("ko %d distinct", len(kd)), "",
			"informative", "")
	}

	if vs {
		for _, sc := range []struct {
			key, title, scan string
			target           float64
		}{
			{vsEmpty, "go-service vs reference CLIs, empty Go cache", "scan step, empty Go cache", vsEmptyTarget},
			{vsWarm, "go-service vs reference CLIs, warm Go cache, one-line change", "scan step, warm Go cache, one-line change", vsWarmTarget},
		} {
			pw, rt := walls(r.vsPaved[sc.key]), totals(r.vsRef[sc.key])
			row(ratioRow(sc.title+", median", median(pw), median(rt), "CLIs", sc.target)...)
			row(spreadRow(sc.title+", spread (min–max)", pw, rt, "CLIs")...)
			row(ratioRow(sc.scan+", median", r.pavedGroup(sc.key, []string{"scan"}), r.refGroup(sc.key, "scan"), "trivy + govulncheck", scanTarget)...)
		}
		var peak, refPeak int64
		for _, ms := range r.vsPaved {
			for _, m := range ms {
				peak = max(peak, m.maxRSS)
			}
		}
		for _, rs := range r.vsRef {
			for _, rr := range rs {
				refPeak = max(refPeak, rr.maxRSS)
			}
		}
		row("peak RSS, go-service with signing vs reference CLIs", mib(peak), "CLIs "+mib(refPeak), "", "< 768 MiB (paved)",
			verdict(peak < vsMemoryTarget, mib(peak-vsMemoryTarget)))
	}

	p("\nRatios are of medians (build: paved/ko; run: warm/cold; go-service vs reference CLIs: paved/CLIs, the CLIs' time being the sum of their commands run one after another); "+
		"spread rows give the fastest and slowest of the %d rounds, and the lowest and highest ratio within a round. "+
		"Peak RSS is ru_maxrss: the largest single process of the run, paved or a process it started (go, the worker); for the CLIs, the largest of their commands.\n", n)

	if basic {
		p("\n## Digests\n\n")
		p("- paved run (cold caches): %s\n", strings.Join(code(pd), ", "))
		p("- paved build: %s\n", strings.Join(code(bd), ", "))
		p("- ko build: %s\n", strings.Join(code(kd), ", "))

		p("\n## Where paved's time goes\n\n")
		p("Median step durations from the run reports (steps may overlap).\n\n")
		for _, bench := range []string{"build", "run-cold", "run-warm"} {
			title := map[string]string{"build": "paved build", "run-cold": "paved run, cold cache", "run-warm": "paved run, warm cache"}[bench]
			p("- %s: %s\n", title, r.stepMedians(bench))
		}
		p("- process start and exit, as `paved version`: %s\n", millis(v))
	}

	if vs {
		p("\n## go-service vs reference CLIs: where the time goes\n\n")
		p("Medians. The CLIs run one after another, so their wall clock is the sum of their commands. paved's steps overlap " +
			"(test ‖ build, lint when build ends, then sbom ‖ scan, publish, then sign ‖ attest), so its step durations add up to more than its wall clock. " +
			"`crane manifest` counts as attestation work: only the attestations need the platform digests. " +
			"CPU time is user and system time of the processes and all they started (from wait4): unlike wall clock, other load on the machine barely changes it.\n\n")
		row("work", "CLIs, empty Go cache", "paved, empty Go cache", "CLIs, warm, one-line change", "paved, warm, one-line change")
		row("---", "---:", "---:", "---:", "---:")
		for _, g := range workGroups {
			row(g.name, secs(r.refGroup(vsEmpty, g.name)), secs(r.pavedGroup(vsEmpty, g.steps)),
				secs(r.refGroup(vsWarm, g.name)), secs(r.pavedGroup(vsWarm, g.steps)))
		}
		row("**wall clock**", secs(median(totals(r.vsRef[vsEmpty]))), secs(median(walls(r.vsPaved[vsEmpty]))),
			secs(median(totals(r.vsRef[vsWarm]))), secs(median(walls(r.vsPaved[vsWarm]))))
		cpus := func(sc string) (ref, paved time.Duration) {
			var rd, pd []time.Duration
			for _, rr := range r.vsRef[sc] {
				rd = append(rd, rr.cpu)
			}
			for _, m := range r.vsPaved[sc] {
				pd = append(pd, m.cpu)
			}
			return median(rd), median(pd)
		}
		re, pe := cpus(vsEmpty)
		rw, pw := cpus(vsWarm)
		row("CPU time (user + sys)", secs(re), secs(pe), secs(rw), secs(pw))

		p("\nEach reference command:\n\n")
		row("reference command", "paved step", "empty Go cache", "warm, one-line change")
		row("---", "---", "---:", "---:")
		var names []string
		for _, sc := range []string{vsEmpty, vsWarm} {
			for _, rr := range r.vsRef[sc] {
				for _, c := range rr.cmds {
					if !slices.Contains(names, c.name) {
						names = append(names, c.name)
					}
				}
			}
		}
		cmdMedian := func(sc, name string) string {
			var d []time.Duration
			for _, rr := range r.vsRef[sc] {
				for _, c := range rr.cmds {
					if c.name == name {
						d = append(d, c.wall)
					}
				}
			}
			if len(d) == 0 {
				return ""
			}
			return secs(median(d))
		}
		for _, name := range names {
			row("`"+name+"`", counterpart(name), cmdMedian(vsEmpty, name), cmdMedian(vsWarm, name))
		}
		p("\nEach paved step:\n\n")
		p("- empty Go cache: %s\n", r.stepMedians(vsEmpty))
		p("- warm Go cache, one-line change: %s\n", r.stepMedians(vsWarm))
	}

	p("\n## Rounds\n\n")
	var head []string
	if basic {
		head = append(head, "paved build", "ko build", "paved build, empty Go cache", "ko build, empty Go cache", "run cold", "run warm")
	}
	if vs {
		head = append(head, "paved, empty Go cache", "CLIs, empty Go cache", "paved, warm, changed", "CLIs, warm, changed")
	}
	row(append([]string{"round"}, head...)...)
	row(slices.Repeat([]string{"---:"}, len(head)+1)...)
	for i := range n {
		cells := []string{fmt.Sprint(i + 1)}
		if basic {
			cells = append(cells, secs(r.pavedBuild[i].wall), secs(r.koBuild[i].wall), secs(r.pavedBuildCold[i].wall), secs(r.koBuildCold[i].wall),
				secs(r.coldRun[i].wall), secs(r.warmRun[i].wall))
		}
		if vs {
			cells = append(cells, secs(r.vsPaved[vsEmpty][i].wall), secs(r.vsRef[vsEmpty][i].total),
				secs(r.vsPaved[vsWarm][i].wall), secs(r.vsRef[vsWarm][i].total))
		}
		row(cells...)
	}
	if len(r.failures) > 0 {
		p("\n## Failures\n\n")
		for _, f := range r.failures {
			p("- %s\n", f)
		}
	}
	return b.String()
}

// workGroups are the golden path's steps, with paved's names for them.
var workGroups = []struct {
	name  string
	steps []string
}{
	{"test", []string{"test"}},
	{"lint", []string{"lint"}},
	{"build + publish", []string{"build", "publish"}},
	{"sbom", []string{"sbom"}},
	{"scan", []string{"scan"}},
	{"sign", []string{"sign"}},
	{"attest", []string{"attest"}},
}

// counterpart names the work group a reference command belongs to.
func counterpart(cmd string) string {
	switch {
	case strings.HasPrefix(cmd, "go "):
		return "test"
	case cmd == "staticcheck", cmd == "gosec":
		return "lint"
	case strings.HasPrefix(cmd, "ko "):
		return "build + publish"
	case strings.HasPrefix(cmd, "syft "):
		return "sbom"
	case strings.HasPrefix(cmd, "trivy "), cmd == "govulncheck":
		return "scan"
	case strings.HasPrefix(cmd, "cosign sign"):
		return "sign"
	default: // cosign attest, and crane manifest, which only the attestations need
		return "attest"
	}
}

// refGroup is the median over runs of the reference commands' time on one
// work group.
func (r *results) refGroup(scenario, group string) time.Duration {
	var d []time.Duration
	for _, rr := range r.vsRef[scenario] {
		var sum time.Duration
		for _, c := range rr.cmds {
			if counterpart(c.name) == group {
				sum += c.wall
			}
		}
		d = append(d, sum)
	}
	return median(d)
}

// pavedGroup is the median over runs of the sum of paved's steps.
func (r *results) pavedGroup(scenario string, steps []string) time.Duration {
	var d []time.Duration
	for i := range len(r.vsPaved[scenario]) {
		var sum time.Duration
		for _, s := range steps {
			if ds := r.steps[scenario][s]; i < len(ds) {
				sum += ds[i]
			}
		}
		d = append(d, sum)
	}
	return median(d)
}

// stepMedians lists the median duration of each paved step of a benchmark.
func (r *results) stepMedians(bench string) string {
	var cells []string
	for _, s := range r.stepOrder[bench] {
		cells = append(cells, fmt.Sprintf("%s %s", s, millis(median(r.steps[bench][s]))))
	}
	if len(cells) == 0 {
		return "none"
	}
	return strings.Join(cells, ", ")
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
