package goservice

import (
	"testing"
	"time"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// TestScanConfig: the step gets the day an exception names, which the scan
// honours through its end, UTC, as it does a promotion policy's (the same
// value verify hands it); scan.required and --scan-required decide whether
// a scan that cannot run fails the step.
func TestScanConfig(t *testing.T) {
	cfg, err := pipelines.ParseConfig([]byte("scan:\n  required: false\n  ignore:\n    - {id: CVE-1, reason: r, expires: 2026-12-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &pipelines.Run{Config: cfg, Context: runner.RunContext{Dir: t.TempDir()}}
	sc, err := scanConfig(r, pipelines.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC); len(sc.Ignore) != 1 || !sc.Ignore[0].Expires.Equal(want) {
		t.Errorf("ignore %+v, want CVE-1 expiring on %v", sc.Ignore, want)
	}
	if !sc.AllowIncomplete {
		t.Error("scan.required: false does not allow an incomplete scan")
	}
	yes := true
	if sc, _ := scanConfig(r, pipelines.Options{ScanRequired: &yes}); sc.AllowIncomplete {
		t.Error("--scan-required does not override paved.yaml")
	}
	def, _ := pipelines.ParseConfig(nil)
	if sc, _ := scanConfig(&pipelines.Run{Config: def, Context: runner.RunContext{Dir: t.TempDir()}}, pipelines.Options{}); sc.AllowIncomplete {
		t.Error("by default a scan that cannot run does not fail the step")
	}
}
