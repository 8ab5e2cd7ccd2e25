package scan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

func summarize(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		s := strings.Join([]string{f.Scanner, f.Target, f.ID, f.Package, f.Version, f.FixedVersion, f.Severity}, " ")
		if f.Reachable != nil {
			s += map[bool]string{true: " reachable", false: " unreachable"}[*f.Reachable]
		}
		if f.Ignored != "" {
			s += " ignored"
		}
		out = append(out, s)
	}
	return out
}

func TestRunVulnerableFailsGate(t *testing.T) {
	fx := service(t, "vulnerable")
	dbDir := airGapped(t)
	before := trafficTrap.Load()

	start := time.Now()
	rep, err := Run(context.Background(), Input{Index: fx.idx, Source: fx.dir}, Options{DBDir: dbDir})
	t.Logf("scan of two platforms and the source took %v", time.Since(start))

	var ge *GateError
	if !errors.As(err, &ge) {
		t.Fatalf("Run: got %v, want a *GateError", err)
	}
	if rep == nil {
		t.Fatal("Run returned no report with the gate error")
	}
	if got := trafficTrap.Load() - before; got != 0 {
		t.Errorf("an air-gapped scan made %d network connections", got)
	}
	want := []string{
		"trivy linux/amd64 CVE-2099-0001 github.com/google/uuid v1.6.0 1.6.1 CRITICAL",
		"trivy linux/arm64 CVE-2099-0001 github.com/google/uuid v1.6.0 1.6.1 CRITICAL",
		"govulncheck source GO-2099-0001 github.com/google/uuid v1.6.0 v1.6.1 CRITICAL reachable",
		"trivy linux/amd64 CVE-2099-0002 github.com/google/uuid v1.6.0  HIGH",
		"trivy linux/arm64 CVE-2099-0002 github.com/google/uuid v1.6.0  HIGH",
		"govulncheck source GO-2099-0002 github.com/google/uuid v1.6.0  HIGH unreachable",
	}
	if diff := cmp.Diff(want, summarize(rep.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	wantCounts := map[string]int{"CRITICAL": 3, "HIGH": 3, "MEDIUM": 0, "LOW": 0, "UNKNOWN": 0}
	if diff := cmp.Diff(wantCounts, rep.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{Trivy, Govulncheck}, rep.Scanners); diff != "" {
		t.Errorf("scanners (-want +got):\n%s", diff)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %q", rep.Warnings)
	}
	const rule = "fail on CRITICAL with a fix available"
	if ge.Rule != rule || rep.Gate.Rule != rule || rep.Gate.Passed {
		t.Errorf("gate: %+v, error rule %q; want failed, rule %q", rep.Gate, ge.Rule, rule)
	}
	if len(ge.Violations) != 3 {
		t.Errorf("violations: %q, want the three CRITICAL findings", summarize(ge.Violations))
	}
	for _, s := range []string{critCVE, critGO, rule, "fixed in 1.6.1"} {
		if !strings.Contains(ge.Error(), s) {
			t.Errorf("gate error %q does not name %q", ge.Error(), s)
		}
	}
	if strings.Contains(ge.Error(), highCVE) {
		t.Errorf("gate error %q names %s, which has no fix", ge.Error(), highCVE)
	}
	// The call site is reported relative to the module.
	for _, f := range rep.Findings {
		if f.ID == critGO && f.Location != "main.go:9" {
			t.Errorf("%s location %q, want main.go:9", critGO, f.Location)
		}
		if f.Scanner == Trivy && f.Location != "app/vulnsvc" {
			t.Errorf("%s %s location %q, want app/vulnsvc", f.ID, f.Target, f.Location)
		}
		if f.ID == critCVE && !slices.Contains(f.Aliases, critGO) {
			t.Errorf("%s aliases %q lack %s", f.ID, f.Aliases, critGO)
		}
	}
}

func TestRunIgnore(t *testing.T) {
	fx := service(t, "vulnerable")
	dbDir := airGapped(t)
	future := time.Now().AddDate(1, 0, 0)
	past := time.Now().AddDate(0, 0, -1)

	t.Run("future expiry with reason passes", func(t *testing.T) {
		// One entry, by CVE, covers Trivy's finding and govulncheck's GO ID.
		rep, err := Run(context.Background(), Input{Index: fx.idx, Source: fx.dir}, Options{
			DBDir: dbDir,
			Gate:  Gate{Ignore: []Ignore{{ID: critCVE, Reason: "fix ships next sprint", Expires: future}}},
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !rep.Gate.Passed {
			t.Errorf("gate: %+v", rep.Gate)
		}
		for _, f := range rep.Findings {
			if (f.ID == critCVE || f.ID == critGO) != (f.Ignored == "fix ships next sprint") {
				t.Errorf("%s %s ignored %q", f.ID, f.Target, f.Ignored)
			}
		}
		if rep.Counts["CRITICAL"] != 0 || rep.Counts["HIGH"] != 3 {
			t.Errorf("counts %v, want ignored findings left out", rep.Counts)
		}
	})
	t.Run("expired entry is not honoured", func(t *testing.T) {
		rep, err := Run(context.Background(), Input{Index: fx.idx}, Options{
			DBDir: dbDir,
			Gate:  Gate{Ignore: []Ignore{{ID: critCVE, Reason: "was waiting for upstream", Expires: past}}},
		})
		var ge *GateError
		if !errors.As(err, &ge) {
			t.Fatalf("Run: got %v, want a *GateError", err)
		}
		if !hasWarning(rep, critCVE+": expired after "+past.UTC().Format(time.DateOnly)+", not honoured") {
			t.Errorf("warnings %q do not say the entry expired", rep.Warnings)
		}
	})
}

func hasWarning(rep *Report, s string) bool {
	return slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, s) })
}

func TestRunClean(t *testing.T) {
	fx := service(t, "clean")
	rep, err := Run(context.Background(), Input{Index: fx.idx, Source: fx.dir}, Options{DBDir: airGapped(t)})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(rep.Findings) != 0 || !rep.Gate.Passed || len(rep.Warnings) != 0 {
		t.Errorf("report: %+v", rep)
	}
	if diff := cmp.Diff([]string{Trivy, Govulncheck}, rep.Scanners); diff != "" {
		t.Errorf("scanners (-want +got):\n%s", diff)
	}
}

// TestRunMissingDatabases: the scan fails closed. A scanner the input
// needs that has no database makes Run return an *IncompleteError naming
// each missing database, even when another scanner ran, unless the caller
// allows it; the report says what was scanned either way.
func TestRunMissingDatabases(t *testing.T) {
	fx := service(t, "vulnerable")
	run := func(t *testing.T, dir string, allow bool) (*Report, error) {
		t.Helper()
		rep, err := Run(context.Background(), Input{Index: fx.idx, Source: fx.dir}, Options{DBDir: dir, AllowIncomplete: allow})
		if rep == nil {
			t.Fatalf("Run returned no report: %v", err)
		}
		return rep, err
	}
	incomplete := func(t *testing.T, err error) *IncompleteError {
		t.Helper()
		var ie *IncompleteError
		if !errors.As(err, &ie) {
			t.Fatalf("Run: got %v, want an *IncompleteError", err)
		}
		return ie
	}

	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		rep, err := run(t, dir, false)
		ie := incomplete(t, err)
		want := []string{
			"trivy: no Trivy vulnerability database in " + filepath.Join(dir, "db"),
			"govulncheck: no Go vulnerability database in " + filepath.Join(dir, "govulndb"),
		}
		if diff := cmp.Diff(want, rep.Missing); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
		if msg := "not scanned: " + strings.Join(want, "; "); err.Error() != msg {
			t.Errorf("error %q, want %q", err, msg)
		}
		if ie.Status != NotScanned || rep.Status != NotScanned {
			t.Errorf("status %q, error status %q, want %q", rep.Status, ie.Status, NotScanned)
		}
		if len(rep.Scanners) != 0 || len(rep.Findings) != 0 || rep.Gate.Passed {
			t.Errorf("report: %+v; want no scanner, no finding and a gate that did not pass", rep)
		}
	})
	t.Run("none, allowed", func(t *testing.T) {
		dir := t.TempDir()
		rep, err := run(t, dir, true)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if rep.Status != NotScanned || len(rep.Missing) != 2 || rep.Gate.Passed {
			t.Errorf("report: %+v; want not scanned, two missing databases and a gate that did not pass", rep)
		}
		if !hasWarning(rep, "not scanned: trivy: no Trivy vulnerability database in "+filepath.Join(dir, "db")) {
			t.Errorf("warnings %q do not say what was not scanned", rep.Warnings)
		}
	})
	t.Run("only Trivy's", func(t *testing.T) {
		// Trivy sees the modules in the binaries, but a partial scan is
		// a gap all the same: the source was not checked.
		dir := t.TempDir()
		writeTrivyDB(t, dir, time.Now().AddDate(0, 0, -30))
		rep, err := run(t, dir, false)
		ie := incomplete(t, err)
		var ge *GateError
		if !errors.As(err, &ge) {
			t.Errorf("Run: got %v, want a *GateError from Trivy's findings too", err)
		}
		if diff := cmp.Diff([]string{"govulncheck: no Go vulnerability database in " + filepath.Join(dir, "govulndb")}, ie.Missing); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
		if !strings.HasPrefix(ie.Error(), "partially scanned (only trivy ran): govulncheck: ") {
			t.Errorf("error %q", ie)
		}
		if diff := cmp.Diff([]string{Trivy}, rep.Scanners); diff != "" {
			t.Errorf("scanners (-want +got):\n%s", diff)
		}
		if rep.Status != PartiallyScanned || !hasWarning(rep, "30 days ago") {
			t.Errorf("status %q, warnings %q: want partially scanned and a stale database", rep.Status, rep.Warnings)
		}
	})
	t.Run("only Trivy's, allowed", func(t *testing.T) {
		dir := t.TempDir()
		writeTrivyDB(t, dir, time.Now())
		rep, err := run(t, dir, true)
		var ge *GateError
		var ie *IncompleteError
		if !errors.As(err, &ge) || errors.As(err, &ie) {
			t.Fatalf("Run: got %v, want the gate's error alone", err)
		}
		if rep.Status != PartiallyScanned || !hasWarning(rep, "partially scanned (only trivy ran)") {
			t.Errorf("status %q, warnings %q", rep.Status, rep.Warnings)
		}
	})
	t.Run("only the Go database", func(t *testing.T) {
		// Without Trivy's database the image is not scanned, and
		// govulncheck's findings have no severity the gate could fail on.
		dir := t.TempDir()
		writeGoVulnDB(t, dir)
		rep, err := run(t, dir, false)
		ie := incomplete(t, err)
		if diff := cmp.Diff([]string{"trivy: no Trivy vulnerability database in " + filepath.Join(dir, "db")}, ie.Missing); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{Govulncheck}, rep.Scanners); diff != "" {
			t.Errorf("scanners (-want +got):\n%s", diff)
		}
		if rep.Status != PartiallyScanned || rep.Counts["UNKNOWN"] != 2 || !hasWarning(rep, "severity UNKNOWN") {
			t.Errorf("status %q, counts %v, warnings %q", rep.Status, rep.Counts, rep.Warnings)
		}
	})
	t.Run("both", func(t *testing.T) {
		rep, err := run(t, airGapped(t), false)
		if err == nil || errors.As(err, new(*IncompleteError)) {
			t.Fatalf("Run: got %v, want the gate's error alone", err)
		}
		if rep.Status != Scanned || len(rep.Missing) != 0 {
			t.Errorf("status %q, missing %q", rep.Status, rep.Missing)
		}
	})
}

func TestRunErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Run(ctx, Input{}, Options{}); err == nil {
		t.Error("Run with no input: no error")
	}
	if _, err := Run(ctx, Input{Source: "."}, Options{Gate: Gate{Severities: []string{"SEVERE"}}}); err == nil || !strings.Contains(err.Error(), `"SEVERE"`) {
		t.Errorf("unknown severity: %v", err)
	}
	dir := t.TempDir()
	writeTrivyDB(t, dir, time.Now())
	meta := filepath.Join(dir, "db", "metadata.json")
	if err := os.WriteFile(meta, []byte(`{"Version":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fx := service(t, "clean")
	if _, err := Run(ctx, Input{Index: fx.idx}, Options{DBDir: dir}); err == nil || !strings.Contains(err.Error(), meta) {
		t.Errorf("old schema: %v, want an error naming %s", err, meta)
	}
}

// TestRunOnlineTouchesNetwork checks the trap the air-gapped tests rely
// on: without DBDir, Trivy goes for its database and govulncheck for
// vuln.go.dev, and both are caught. A database that cannot be fetched is a
// missing one: the scan fails closed, naming both.
func TestRunOnlineTouchesNetwork(t *testing.T) {
	if testing.Short() {
		ci.Unavailable(t, "-short: tries a download")
	}
	fx := service(t, "clean")
	before := trafficTrap.Load()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := Options{CacheDir: t.TempDir()}
	rep, err := Run(ctx, Input{Index: fx.idx, Source: fx.dir}, opts)
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("Run without DBDir and no network: got %v, want an *IncompleteError", err)
	}
	if trafficTrap.Load() == before {
		t.Errorf("no connection reached the trap; error: %v", err)
	}
	if len(ie.Missing) != 2 || !strings.HasPrefix(ie.Missing[0], "trivy: no Trivy vulnerability database: ") ||
		!strings.HasPrefix(ie.Missing[1], "govulncheck: no Go vulnerability database: https://vuln.go.dev: ") {
		t.Errorf("missing %q", ie.Missing)
	}
	if rep == nil || rep.Status != NotScanned {
		t.Errorf("report %+v, want not scanned", rep)
	}
	t.Logf("error, as expected: %v", err)

	opts.AllowIncomplete = true
	rep, err = Run(ctx, Input{Index: fx.idx, Source: fx.dir}, opts)
	if err != nil || rep.Status != NotScanned {
		t.Errorf("allowed: Run = %+v, %v; want not scanned and no error", rep, err)
	}
}

// TestRunIsSilent: a library never prints; Trivy's and govulncheck's
// output goes to the report or nowhere.
func TestRunIsSilent(t *testing.T) {
	fx := service(t, "vulnerable")
	dbDir := airGapped(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		out <- b
	}()
	_, runErr := Run(context.Background(), Input{Index: fx.idx, Source: fx.dir}, Options{DBDir: dbDir})
	os.Stdout, os.Stderr = stdout, stderr
	w.Close()
	if b := <-out; len(b) != 0 {
		t.Errorf("Run printed %q", b)
	}
	var ge *GateError
	if !errors.As(runErr, &ge) {
		t.Errorf("Run: %v", runErr)
	}
}

// TestRunConcurrent: scans in one process share Trivy's database state;
// they take turns instead of closing it under each other.
func TestRunConcurrent(t *testing.T) {
	fx := service(t, "vulnerable")
	dirs := []string{airGapped(t), airGapped(t)}
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := Run(context.Background(), Input{Index: fx.idx}, Options{DBDir: dirs[i%2]})
			errs <- err
		}()
	}
	for range 4 {
		var ge *GateError
		if err := <-errs; !errors.As(err, &ge) || len(ge.Violations) != 2 {
			t.Errorf("Run: %v, want the gate to fail on both platforms", err)
		}
	}
}
