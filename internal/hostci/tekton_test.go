package hostci

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pavedhq/paved/runner"
)

// taskRun lays out a directory as Tekton gives a step (results under
// /tekton/results) and returns the run context the runner detects there.
func taskRun(t *testing.T) runner.RunContext {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	tk := runner.Tekton{Root: root}
	if !tk.Detect() {
		t.Fatal("the runner does not detect the simulated TaskRun")
	}
	rc, err := tk.Context(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func readResult(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTektonResults(t *testing.T) {
	rc := taskRun(t)
	_, rep := workspace(t)
	rep.Source = rc
	var log bytes.Buffer
	h := For(rc, Env{Log: &log})
	if h == nil {
		t.Fatal("no host for a TaskRun")
	}
	if err := h.Write(context.Background(), rep, "/workspace/source/.paved/report.json"); err != nil {
		t.Fatal(err)
	}
	if got := readResult(t, rc.ResultsDir, "IMAGE_URL"); got+"@"+rep.Image.Digest != rep.Image.Ref {
		t.Errorf("IMAGE_URL %q is not the report's %q without its digest", got, rep.Image.Ref)
	}
	if got := readResult(t, rc.ResultsDir, "IMAGE_DIGEST"); got != rep.Image.Digest {
		t.Errorf("IMAGE_DIGEST %q, want the report's %q", got, rep.Image.Digest)
	}
	var sum Summary
	if err := json.Unmarshal([]byte(readResult(t, rc.ResultsDir, "REPORT")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Status != runner.Failed || sum.RunID != rep.RunID || sum.Image != rep.Image.Ref || sum.Steps["build"] != "succeeded+cached" ||
		sum.Tests == nil || sum.Tests.Failed != 1 || sum.Scan["HIGH"] != 1 || sum.Report != "/workspace/source/.paved/report.json" {
		t.Errorf("REPORT %+v", sum)
	}
	if log.Len() != 0 {
		t.Errorf("warnings for results that fit: %s", log.String())
	}
}

// TestTektonResultsWithinLimit: when the report would pass the TaskRun's
// result size limit, it is shortened, then left out, with a warning, and
// the image results are still written.
func TestTektonResultsWithinLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		limit    int
		warn     string
		full     bool
		reported bool
	}{
		{"fits", TektonMaxBytes, "", true, true},
		{"shortened", 700, "shortened", false, true},
		{"left out", 350, "left out", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := taskRun(t)
			_, rep := workspace(t)
			for i := range 8 {
				rep.Steps = append(rep.Steps, runner.StepReport{Name: strings.Repeat("step", 5) + string(rune('a'+i)), Status: runner.Succeeded})
			}
			var log bytes.Buffer
			tk := &Tekton{ResultsDir: rc.ResultsDir, MaxBytes: tc.limit, Log: &log}
			if err := tk.Write(context.Background(), rep, "/workspace/source/.paved/report.json"); err != nil {
				t.Fatal(err)
			}
			if readResult(t, rc.ResultsDir, "IMAGE_DIGEST") != rep.Image.Digest {
				t.Fatal("IMAGE_DIGEST missing or wrong")
			}
			results := map[string]string{}
			entries, _ := os.ReadDir(rc.ResultsDir)
			for _, e := range entries {
				results[e.Name()] = readResult(t, rc.ResultsDir, e.Name())
			}
			if size := messageSize(results) + tektonOverhead; size > tc.limit {
				t.Errorf("results take %d bytes of the termination message, over the %d limit", size, tc.limit)
			}
			report, ok := results["REPORT"]
			if ok != tc.reported {
				t.Fatalf("REPORT written %v, want %v", ok, tc.reported)
			}
			if ok && strings.Contains(report, `"steps"`) != tc.full {
				t.Errorf("REPORT has steps %v, want %v: %s", !tc.full, tc.full, report)
			}
			if tc.warn == "" && log.Len() > 0 || tc.warn != "" && !strings.Contains(log.String(), tc.warn) {
				t.Errorf("log %q, want a warning with %q", log.String(), tc.warn)
			}
		})
	}
}

func TestTektonNoImage(t *testing.T) {
	rc := taskRun(t)
	rep := &runner.Report{Pipeline: "go-test", RunID: "r", Status: runner.Succeeded, Source: rc}
	if err := For(rc, Env{}).Write(context.Background(), rep, "r.json"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rc.ResultsDir, "IMAGE_DIGEST")); !os.IsNotExist(err) {
		t.Errorf("IMAGE_DIGEST written for a run with no image: %v", err)
	}
	if !strings.Contains(readResult(t, rc.ResultsDir, "REPORT"), `"status":"succeeded"`) {
		t.Error("no REPORT")
	}
}

func TestNoHostOnALaptop(t *testing.T) {
	if h := For(runner.RunContext{Environment: "local"}, Env{}); h != nil {
		t.Fatalf("host %T for a local run", h)
	}
	if got := strings.Join(Environments(), ","); got != "github-actions,tekton" {
		t.Fatalf("hosts for %s", got)
	}
}
