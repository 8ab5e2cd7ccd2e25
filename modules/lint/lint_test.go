package lint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/internal/testtools/gocache"
	"github.com/pavedhq/paved/modules/build"
)

// The seeded module has one finding per tool (see testdata/seeded): gosec
// G404 (math/rand for a session ID) and staticcheck SA4006 (a value never
// read). Loading and analysing it costs seconds, so the tests share one
// analysis and judge it under different settings, as Run does.
const (
	seededDir = "testdata/seeded"
	g404Line  = 12
	sa4006Ln  = 17
)

var seeded = sync.OnceValues(func() (map[string]toolRun, error) {
	return analyze(context.Background(), mustAbs(seededDir), Options{})
})

func mustAbs(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		panic(err)
	}
	return abs
}

func seededRuns(t *testing.T) map[string]toolRun {
	t.Helper()
	runs, err := seeded()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range runs {
		if r.err != nil {
			t.Fatalf("%s could not run on the seeded module: %v", name, r.err)
		}
	}
	return runs
}

// find returns the finding of rule, or fails.
func find(t *testing.T, rep *Report, rule string) Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Rule == rule {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", rule, rep.Findings)
	return Finding{}
}

var day = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestSeededFindingsFailTheGates(t *testing.T) {
	rep, err := judge(seededRuns(t), Options{Now: day})
	var ge *GateError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want a *GateError", err)
	}
	for _, want := range []string{"staticcheck gate", "gosec gate", "G404", "main.go:12:", "SA4006", "main.go:17:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the gate's error does not name %q:\n%v", want, err)
		}
	}
	g := find(t, rep, "G404")
	if g.Tool != Gosec || g.File != "main.go" || g.Line != g404Line || g.Severity != "HIGH" || g.CWE != "CWE-338" || !g.Blocking {
		t.Errorf("G404 = %+v", g)
	}
	s := find(t, rep, "SA4006")
	if s.Tool != Staticcheck || s.File != "main.go" || s.Line != sa4006Ln || !s.Blocking || !strings.Contains(s.URL, "staticcheck.dev") {
		t.Errorf("SA4006 = %+v", s)
	}
	if rep.Passed() {
		t.Error("the report passed")
	}
	for _, tr := range rep.Tools {
		if tr.Status != Checked || tr.Passed || tr.Counts[map[string]string{Gosec: "HIGH", Staticcheck: "MEDIUM"}[tr.Tool]] == 0 {
			t.Errorf("%s: %+v", tr.Tool, tr)
		}
	}
}

func TestSARIF(t *testing.T) {
	rep, _ := judge(seededRuns(t), Options{Now: day, Gosec: Tool{Ignore: []Exception{{Rule: "G404", Reason: "test fixture", Expires: day}}}})
	var buf bytes.Buffer
	if err := rep.WriteSARIF(&buf); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID      string `json:"id"`
						HelpURI string `json:"helpUri"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []struct {
					Status        string `json:"status"`
					Justification string `json:"justification"`
				} `json:"suppressions"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 2 {
		t.Fatalf("version %q, %d runs:\n%s", log.Version, len(log.Runs), buf.String())
	}
	if strings.Contains(buf.String(), "null") || strings.Contains(buf.String(), mustAbs(".")) {
		t.Errorf("the SARIF holds a null or an absolute path:\n%s", buf.String())
	}
	got := map[string]string{}
	for _, run := range log.Runs {
		if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
			t.Errorf("%s: invocations %+v", run.Tool.Driver.Name, run.Invocations)
		}
		rules := map[string]bool{}
		for _, r := range run.Tool.Driver.Rules {
			rules[r.ID] = true
		}
		for _, r := range run.Results {
			loc := r.Locations[0].PhysicalLocation
			if !rules[r.RuleID] {
				t.Errorf("%s: result of rule %s, which the driver does not list", run.Tool.Driver.Name, r.RuleID)
			}
			state := r.Level
			if len(r.Suppressions) > 0 {
				state = r.Suppressions[0].Status + ": " + r.Suppressions[0].Justification
			}
			got[run.Tool.Driver.Name+" "+r.RuleID] = loc.ArtifactLocation.URI + ":" + strconv.Itoa(loc.Region.StartLine) + " " + state
		}
	}
	for k, want := range map[string]string{
		"gosec G404":         "main.go:12 accepted: test fixture",
		"staticcheck SA4006": "main.go:17 error",
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
}

// An exception with a reason accepts its findings through its last day,
// UTC, and not after; the report says when one lapsed.
func TestExceptionsUntilTheyExpire(t *testing.T) {
	for _, tc := range []struct {
		name    string
		expires time.Time
		pass    bool
	}{
		{"unexpired", day.AddDate(0, 0, 30), true},
		{"its last day", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"expired", day.AddDate(0, 0, -1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{Now: day,
				Staticcheck: Tool{Ignore: []Exception{{Rule: "SA4006", Path: "*.go", Reason: "kept for the gate's tests", Expires: tc.expires}}},
				Gosec:       Tool{Ignore: []Exception{{Rule: "g404", Path: "main.go", Reason: "kept for the gate's tests", Expires: tc.expires}}},
			}
			rep, err := judge(seededRuns(t), opts)
			if (err == nil) != tc.pass || rep.Passed() != tc.pass {
				t.Fatalf("err = %v, passed %v; want pass %v", err, rep.Passed(), tc.pass)
			}
			for _, rule := range []string{"G404", "SA4006"} {
				f := find(t, rep, rule)
				if tc.pass && (f.Ignored != "kept for the gate's tests" || f.Blocking || f.Expired != "") {
					t.Errorf("%s: %+v", rule, f)
				}
				if !tc.pass && (f.Ignored != "" || !f.Blocking || f.Expired != "2026-05-31") {
					t.Errorf("%s: %+v", rule, f)
				}
			}
			warned := strings.Join(rep.Warnings, "\n")
			if tc.pass == strings.Contains(warned, "expired after 2026-05-31, not honoured") {
				t.Errorf("warnings: %q", warned)
			}
			if !tc.pass && !strings.Contains(err.Error(), "G404") {
				t.Errorf("the error does not name the finding: %v", err)
			}
		})
	}
}

func TestExceptionScope(t *testing.T) {
	opts := Options{Now: day, Gosec: Tool{Ignore: []Exception{{Rule: "G404", Path: "other.go", Reason: "elsewhere", Expires: day}}},
		Staticcheck: Tool{Ignore: []Exception{{Rule: "SA4017", Reason: "another rule", Expires: day}}}}
	rep, err := judge(seededRuns(t), opts)
	if err == nil || find(t, rep, "G404").Ignored != "" || find(t, rep, "SA4006").Ignored != "" {
		t.Fatalf("an exception for another file or rule accepted a finding: %v", err)
	}
	warned := strings.Join(rep.Warnings, "\n")
	for _, w := range []string{"gosec: exception G404 in other.go matches no finding", "staticcheck: exception SA4017 matches no finding"} {
		if !strings.Contains(warned, w) {
			t.Errorf("warnings %q lack %q", warned, w)
		}
	}
}

func TestSeverityAndWarn(t *testing.T) {
	// G404 is HIGH, SA4006 MEDIUM.
	rep, err := judge(seededRuns(t), Options{Now: day, Staticcheck: Tool{Severity: "HIGH"}, Gosec: Tool{Severity: "high"}})
	if err == nil || find(t, rep, "SA4006").Blocking || !find(t, rep, "G404").Blocking {
		t.Errorf("severity HIGH: %v", err)
	}
	rep, err = judge(seededRuns(t), Options{Now: day, Staticcheck: Tool{Warn: true}, Gosec: Tool{Warn: true}})
	if err != nil || !rep.Passed() || len(rep.Findings) < 2 || rep.Tools[0].Rule != "warn on findings" {
		t.Errorf("warn: %v, %+v", err, rep)
	}
}

func TestDisabledToolsPassAndSaySo(t *testing.T) {
	rep, err := Run(context.Background(), "testdata/broken", Options{Staticcheck: Tool{Disabled: true}, Gosec: Tool{Disabled: true}})
	if err != nil || !rep.Passed() {
		t.Fatalf("err = %v", err)
	}
	for _, tr := range rep.Tools {
		if tr.Status != Disabled || tr.Rule != "disabled" {
			t.Errorf("%+v", tr)
		}
	}
}

// A tool that cannot run fails its gate, and says why.
func TestToolThatCannotRunFails(t *testing.T) {
	rep, err := Run(context.Background(), "testdata/broken", Options{Staticcheck: Tool{Disabled: true}})
	if err == nil || rep == nil || rep.Passed() {
		t.Fatalf("err = %v, report %+v", err, rep)
	}
	if !strings.Contains(err.Error(), "gosec could not run") || !strings.Contains(err.Error(), "main.go:5") {
		t.Errorf("err = %v", err)
	}
	if g := rep.Tools[1]; g.Status != NotRun || !strings.Contains(g.Error, "main.go:5") || strings.Contains(g.Error, mustAbs(".")) {
		t.Errorf("gosec: %+v", g)
	}
	if s := rep.Tools[0]; s.Status != Disabled || !s.Passed {
		t.Errorf("staticcheck: %+v", s)
	}
}

func TestBadSettings(t *testing.T) {
	for _, tc := range []struct {
		opts  Options
		field string
	}{
		{Options{Gosec: Tool{Ignore: []Exception{{Rule: "G404", Expires: day}}}}, "reason"},
		{Options{Gosec: Tool{Ignore: []Exception{{Rule: "G404", Reason: "r"}}}}, "expires"},
		{Options{Gosec: Tool{Ignore: []Exception{{Reason: "r", Expires: day}}}}, "rule"},
		{Options{Gosec: Tool{Ignore: []Exception{{Rule: "G404", Path: "/abs/main.go", Reason: "r", Expires: day}}}}, "path"},
		{Options{Gosec: Tool{Ignore: []Exception{{Rule: "G404", Path: "[", Reason: "r", Expires: day}}}}, "path"},
		{Options{Staticcheck: Tool{Severity: "urgent"}}, "severity"},
	} {
		_, err := Run(context.Background(), "testdata/broken", tc.opts)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: err = %v, want a field error on %s", tc.opts, err, tc.field)
		}
	}
	// A check list entry that matches no rule is a typo, not an opt-out.
	runs, err := analyze(context.Background(), mustAbs(seededDir), Options{Gosec: Tool{Checks: []string{"G40"}}, Staticcheck: Tool{Disabled: true}})
	if err != nil || runs[Gosec].err == nil || !strings.Contains(runs[Gosec].err.Error(), `"G40" matches no rule`) {
		t.Errorf("runs = %+v, %v", runs, err)
	}
}

func TestSelectChecks(t *testing.T) {
	known := []string{"S1000", "SA1000", "SA4006", "ST1000", "G101", "G404"}
	for _, tc := range []struct {
		checks []string
		want   string
	}{
		{nil, "SA4006"},
		{[]string{"all", "-SA*"}, "G101 G404 S1000 ST1000"},
		{[]string{"S*"}, "S1000"},
		{[]string{"SA4*", "g101"}, "G101 SA4006"},
		{[]string{"all", "-G4*", "G404"}, "G101 G404 S1000 SA1000 SA4006 ST1000"},
	} {
		on, err := selectChecks(known, map[string]bool{"SA4006": true}, tc.checks)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, id := range known {
			if on[id] {
				got = append(got, id)
			}
		}
		slices.Sort(got)
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%q: %s, want %s", tc.checks, g, tc.want)
		}
	}
}

// staticcheck's per-package cache serves a re-run, never a stale result
// after a change, and holds nothing of the environment.
func TestStaticcheckCache(t *testing.T) {
	mod, cache := t.TempDir(), filepath.Join(t.TempDir(), "staticcheck")
	for _, name := range []string{"go.mod", "main.go"} {
		b, err := os.ReadFile(filepath.Join(seededDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secret := "paved-test-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	t.Setenv("PAVED_TEST_TOKEN", secret)
	opts := Options{Gosec: Tool{Disabled: true}, CacheDir: cache}
	sa4006 := func() []Finding {
		t.Helper()
		runs, err := analyze(context.Background(), mod, opts)
		if err != nil || runs[Staticcheck].err != nil {
			t.Fatalf("%v, %v", err, runs[Staticcheck].err)
		}
		var fs []Finding
		for _, f := range runs[Staticcheck].findings {
			if f.Rule == "SA4006" {
				fs = append(fs, f)
			}
		}
		return fs
	}
	for range 2 {
		if fs := sa4006(); len(fs) != 1 || fs[0].File != "main.go" || fs[0].Line != sa4006Ln {
			t.Fatalf("SA4006: %+v", fs)
		}
	}
	// The same module elsewhere (another checkout) is served from the
	// cache, at its own files.
	moved := filepath.Join(t.TempDir(), "moved")
	if err := os.Rename(mod, moved); err != nil {
		t.Fatal(err)
	}
	mod = moved
	if fs := sa4006(); len(fs) != 1 || fs[0].File != "main.go" || fs[0].Line != sa4006Ln {
		t.Fatalf("SA4006 in the moved module: %+v", fs)
	}
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the cache directory: %v, %v", fi, err)
	}
	// Fix the finding: the cached result of main must not be served.
	src, _ := os.ReadFile(filepath.Join(mod, "main.go"))
	fixed := strings.Replace(string(src), "l := name + \"-default\"\n\tl = name", "l := name", 1)
	if fixed == string(src) {
		t.Fatal("the seeded source changed; update the test")
	}
	if err := os.WriteFile(filepath.Join(mod, "main.go"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	if fs := sa4006(); len(fs) != 0 {
		t.Errorf("SA4006 after the fix: %+v", fs)
	}
	files := 0
	err := filepath.WalkDir(cache, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the environment's secret", path)
		}
		return err
	})
	if err != nil || files == 0 {
		t.Fatalf("%d cache files, %v", files, err)
	}
}

func TestLoadsWhatTheBuildCompiled(t *testing.T) {
	// The lint step runs after go test and reads the export data it and
	// the build compiled: with an environment or flags of its own (cgo
	// on, no -trimpath, debug information written) it would compile every
	// dependency again. os/user is one that cgo changes.
	mod, cachedir := t.TempDir(), t.TempDir()
	t.Setenv("GOCACHE", cachedir)
	t.Setenv("CGO_ENABLED", "1")
	t.Setenv("GOFLAGS", "")
	files := map[string]string{
		"go.mod":  "module example.com/whoami\n\ngo 1.24\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os/user\"\n)\n\nfunc main() {\n\tu, err := user.Current()\n\tfmt.Println(u, err)\n}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	host := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if _, err := build.Compile(context.Background(), build.Options{Dir: mod}, host, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	// Compiled packages: the cache's archives (it also holds go's
	// package index, which loading adds to).
	built := gocache.Archives(t, cachedir)
	runs, err := analyze(context.Background(), mod, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range runs {
		if r.err != nil {
			t.Fatalf("%s: %v", name, r.err)
		}
	}
	if len(built) < 20 {
		t.Fatalf("the build left %d archives in the Go cache; the test cannot tell", len(built))
	}
	if n := gocache.Added(built, gocache.Archives(t, cachedir)); n > 0 {
		t.Errorf("loading compiled again %d packages the build had compiled (cgo, -trimpath or -gcflags differ)", n)
	}
}
