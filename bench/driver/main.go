// Command driver measures paved against ko, and the whole go-service golden
// path against the reference CLIs doing the same work, and writes a markdown
// table. bench/run.sh sets up the registry and tools and runs it.
//
// Commands are timed wall clock, end to end, as a user would see them. The
// two sides of a comparison run in the same round, alternating which goes
// first, so drift of the machine (thermal, page cache, other load) hits both.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pavedhq/paved/modules/build"
)

type config struct {
	paved, ko   string
	vulnDB      string
	registry    string
	source      string
	work        string
	out         string
	rounds      int
	versionRuns int
	only        string // "" (everything), "reference" or "basic"

	// The reference CLIs of the golden-path comparison.
	cosign, syft, trivy, govulncheck, crane, staticcheck, gosec string
	toolVersions                                                string // as the results name them

	base string // the base image both ko and paved build on, set by run
}

func main() {
	var c config
	flag.StringVar(&c.paved, "paved", "", "paved binary")
	flag.StringVar(&c.ko, "ko", "ko", "ko binary")
	flag.StringVar(&c.vulnDB, "vuln-db", "", "offline vulnerability database for paved run's scan step")
	flag.StringVar(&c.registry, "registry", "", "registry host:port to publish to")
	flag.StringVar(&c.source, "source", "examples/go-service", "service to build")
	flag.StringVar(&c.work, "work", "", "scratch directory (default: a new temporary one)")
	flag.StringVar(&c.out, "out", "", "also write the markdown results to this file")
	flag.IntVar(&c.rounds, "rounds", 3, "rounds of each comparison")
	flag.IntVar(&c.versionRuns, "version-runs", 50, "runs of paved version")
	flag.StringVar(&c.only, "only", "", `run only "reference" (go-service vs the reference CLIs) or "basic" (build vs ko, warm vs cold, version)`)
	flag.StringVar(&c.cosign, "cosign", "cosign", "cosign binary, for the reference CLIs")
	flag.StringVar(&c.syft, "syft", "syft", "syft binary, for the reference CLIs")
	flag.StringVar(&c.trivy, "trivy", "trivy", "trivy binary, for the reference CLIs")
	flag.StringVar(&c.govulncheck, "govulncheck", "govulncheck", "govulncheck binary, for the reference CLIs")
	flag.StringVar(&c.crane, "crane", "crane", "crane binary, for the reference CLIs")
	flag.StringVar(&c.staticcheck, "staticcheck", "staticcheck", "staticcheck binary, for the reference CLIs")
	flag.StringVar(&c.gosec, "gosec", "gosec", "gosec binary, for the reference CLIs")
	flag.StringVar(&c.toolVersions, "tool-versions", "", "versions of the reference CLIs, for the results")
	flag.Parse()
	if c.paved == "" || c.registry == "" || c.rounds < 1 || c.versionRuns < 1 ||
		(c.only != "" && c.only != "reference" && c.only != "basic") {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	var err error
	if c.source, err = filepath.Abs(c.source); err != nil {
		return err
	}
	if c.work == "" {
		if c.work, err = os.MkdirTemp("", "paved-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(c.work)
	}
	if err := checkRegistry(ctx, c.registry); err != nil {
		return err
	}

	base := c.registry + "/bench/base:latest"
	c.base = base
	logf("publishing paved's minimal base to %s", base)
	if err := pushBase(ctx, base); err != nil {
		return fmt.Errorf("publishing base: %w", err)
	}

	r := &results{cfg: c, start: time.Now().UTC()}
	if r.goVersion, err = output(ctx, "go", "env", "GOVERSION"); err != nil {
		return err
	}
	if r.koVersion, err = output(ctx, c.ko, "version"); err != nil {
		return err
	}

	r.load = loadAverage()
	if c.only != "reference" {
		if err := benchBuild(ctx, c, base, r); err != nil {
			return err
		}
		if err := benchRun(ctx, c, r); err != nil {
			return err
		}
		if err := benchStartup(ctx, c, r); err != nil {
			return err
		}
	}
	if c.only != "basic" {
		if err := benchReference(ctx, c, r); err != nil {
			return err
		}
	}

	md := r.markdown()
	fmt.Print(md)
	if c.out != "" {
		if err := os.WriteFile(c.out, []byte(md), 0o644); err != nil {
			return err
		}
	}
	// Numbers first, then the verdict: a broken invariant fails the run,
	// a missed target does not.
	if len(r.failures) > 0 {
		return errors.New(strings.Join(r.failures, "; "))
	}
	return nil
}

// checkRegistry fails early, with a clear message, if nothing serves the
// registry API at addr.
func checkRegistry(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("registry %s: %w", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("registry %s: GET /v2/: %s", addr, resp.Status)
	}
	return nil
}

// pushBase publishes paved's minimal base as a two-platform index, so ko
// (which cannot pull its default base offline) builds on the same layer.
func pushBase(ctx context.Context, ref string) error {
	tag, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := build.Minimal().Image(ctx, p)
		if err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	return remote.WriteIndex(tag, idx, remote.WithContext(ctx))
}

var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

const platformFlag = "linux/amd64,linux/arm64"

func benchBuild(ctx context.Context, c config, base string, r *results) error {
	koEnv := []string{
		"KO_DOCKER_REPO=" + c.registry + "/bench/ko",
		"KO_DEFAULTBASEIMAGE=" + base,
	}
	ko := command{
		name: "ko build",
		argv: []string{c.ko, "build", "--bare", "--platform=" + platformFlag, "--sbom=none", "./"},
		dir:  c.source,
		env:  koEnv,
	}
	paved := func(report string) command {
		return command{
			name: "paved build",
			argv: []string{c.paved, "build", "--source", c.source, "--image", c.registry + "/bench/paved",
				"--no-cache", "--platform", platformFlag, "--report", report},
		}
	}

	logf("build: warming up the Go build cache")
	if _, err := ko.run(ctx); err != nil {
		return err
	}
	if _, err := paved(filepath.Join(c.work, "build-warmup.json")).run(ctx); err != nil {
		return err
	}

	for i := range c.rounds {
		report := filepath.Join(c.work, fmt.Sprintf("build-%d.json", i))
		cmds := []command{paved(report), ko}
		if i%2 == 1 {
			slices.Reverse(cmds)
		}
		for _, cmd := range cmds {
			m, err := cmd.run(ctx)
			if err != nil {
				return err
			}
			logf("build %d/%d: %s %s", i+1, c.rounds, cmd.name, m.wall.Round(time.Millisecond))
			if cmd.name == ko.name {
				r.koBuild = append(r.koBuild, m)
			} else {
				r.pavedBuild = append(r.pavedBuild, m)
			}
		}
		if err := r.addSteps("build", report); err != nil {
			return err
		}
	}

	// What a fresh CI runner sees: each build compiles the service and its
	// dependencies with its own empty Go build cache.
	for i := range c.rounds {
		dir, err := os.MkdirTemp(c.work, "build-cold-")
		if err != nil {
			return err
		}
		cmds := []command{paved(filepath.Join(dir, "report.json")), ko}
		if i%2 == 1 {
			slices.Reverse(cmds)
		}
		for j, cmd := range cmds {
			cmd.env = append(slices.Clone(cmd.env), "GOCACHE="+filepath.Join(dir, fmt.Sprintf("gocache-%d", j)))
			m, err := cmd.run(ctx)
			if err != nil {
				return err
			}
			logf("build, empty Go cache %d/%d: %s %s", i+1, c.rounds, cmd.name, m.wall.Round(time.Millisecond))
			if cmd.name == ko.name {
				r.koBuildCold = append(r.koBuildCold, m)
			} else {
				r.pavedBuildCold = append(r.pavedBuildCold, m)
			}
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	return nil
}

func benchRun(ctx context.Context, c config, r *results) error {
	// A copy, so the run writes nothing into the repository.
	src := filepath.Join(c.work, "go-service")
	if err := copyDir(c.source, src); err != nil {
		return err
	}
	runCmd := func(cacheDir, report string) command {
		return command{
			name: "paved run",
			argv: []string{c.paved, "run", "go-service", "--source", src, "--image", c.registry + "/bench/run",
				"--vuln-db", c.vulnDB, "--cache-dir", cacheDir, "--report", report},
		}
	}

	warmCache := filepath.Join(c.work, "cache-warm")
	logf("run: populating the warm cache (also warms the Go caches)")
	if _, err := runCmd(warmCache, filepath.Join(c.work, "run-populate.json")).run(ctx); err != nil {
		return err
	}

	for i := range c.rounds {
		coldReport := filepath.Join(c.work, fmt.Sprintf("run-cold-%d.json", i))
		warmReport := filepath.Join(c.work, fmt.Sprintf("run-warm-%d.json", i))
		cold := runCmd(filepath.Join(c.work, fmt.Sprintf("cache-cold-%d", i)), coldReport)
		warm := runCmd(warmCache, warmReport)
		order := []*command{&cold, &warm}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, cmd := range order {
			m, err := cmd.run(ctx)
			if err != nil {
				return err
			}
			kind := "cold"
			if cmd == &warm {
				kind = "warm"
				r.warmRun = append(r.warmRun, m)
			} else {
				r.coldRun = append(r.coldRun, m)
			}
			logf("run %d/%d: %s %s (max RSS %s)", i+1, c.rounds, kind, m.wall.Round(time.Millisecond), mib(m.maxRSS))
		}
		if err := r.addSteps("run-cold", coldReport); err != nil {
			return err
		}
		if err := r.addSteps("run-warm", warmReport); err != nil {
			return err
		}
		steps, err := readSteps(warmReport)
		if err != nil {
			return err
		}
		for _, s := range steps {
			if !s.Cached {
				r.fail(fmt.Sprintf("warm run %d: step %s was not cached", i+1, s.Name))
			}
		}
		if len(steps) == 0 {
			r.fail(fmt.Sprintf("warm run %d: the report lists no steps", i+1))
		}
	}
	// Same source, same paved: the cache must not leak into the image.
	if ds := digests(r.coldRun); len(ds) != 1 {
		r.fail(fmt.Sprintf("cold runs with separate caches published %d distinct digests, want 1", len(ds)))
	}
	return nil
}

func benchStartup(ctx context.Context, c config, r *results) error {
	v := command{name: "paved version", argv: []string{c.paved, "version"}}
	logf("startup: %d runs of paved version", c.versionRuns)
	for range c.versionRuns {
		m, err := v.run(ctx)
		if err != nil {
			return err
		}
		r.version = append(r.version, m)
	}
	return nil
}

type command struct {
	name    string
	argv    []string
	dir     string
	env     []string
	okCodes []int // exit codes other than 0 that mean success
}

type measurement struct {
	wall   time.Duration
	maxRSS int64         // bytes; the largest of the process and the children it waited for
	cpu    time.Duration // user and system time of the process and the children it waited for
	digest string        // sha256:... from the last line of stdout, if any
	ref    string        // that last line, repo@sha256:..., if it names one
	stdout string
}

var digestRE = regexp.MustCompile(`@(sha256:[0-9a-f]{64})\s*$`)

func (c command) run(ctx context.Context) (measurement, error) {
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if errors.As(err, &ee) && slices.Contains(c.okCodes, ee.ExitCode()) {
		err = nil
	}
	if err != nil {
		return measurement{}, fmt.Errorf("%s: %w\n%s%s", strings.Join(c.argv, " "), err, stdout.String(), stderr.String())
	}
	m := measurement{wall: wall, maxRSS: maxRSS(cmd.ProcessState), stdout: stdout.String(),
		cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	last := strings.TrimSpace(lastLine(m.stdout))
	if match := digestRE.FindStringSubmatch(last); match != nil {
		m.digest, m.ref = match[1], last
	}
	return m, nil
}

// maxRSS reads ru_maxrss from wait4, the figure /usr/bin/time -f %M prints:
// the peak of the process or of any single descendant it reaped.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there, KiB on Linux
	}
	return int64(ru.Maxrss) * 1024
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func output(ctx context.Context, argv ...string) (string, error) {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

type step struct {
	Name       string `json:"name"`
	Cached     bool   `json:"cached"`
	DurationMs int64  `json:"durationMs"`
}

func readSteps(report string) ([]step, error) {
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	var rep struct {
		Steps []step `json:"steps"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", report, err)
	}
	return rep.Steps, nil
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			// Outputs of earlier runs are not source.
			if d.Name() == ".paved" {
				return filepath.SkipDir
			}
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// loadAverage is the 1-minute load average where the system reports one:
// a busy machine explains noisy figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "n/a"
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
