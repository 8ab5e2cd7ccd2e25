package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The results of a reference comparison of three rounds, made up: the
// table shows medians and spreads, the lint work as its own row on both
// sides, and paved's lint step among its step timings.
func TestReferenceResults(t *testing.T) {
	s := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	ref := func(total float64) refRun {
		cmds := []timedCmd{{"go vet", s(1)}, {"go test -cover", s(2)}, {"staticcheck", s(3)}, {"gosec", s(4)},
			{"ko build", s(5)}, {"trivy linux/amd64", s(total - 15)}}
		return refRun{total: s(total), cmds: cmds, cpu: s(total * 1.5)}
	}
	r := &results{cfg: config{rounds: 3, only: "reference"}, start: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	r.vsPaved = map[string][]measurement{
		vsEmpty: {{wall: s(10)}, {wall: s(12)}, {wall: s(11)}},
		vsWarm:  {{wall: s(5)}, {wall: s(4)}, {wall: s(6)}},
	}
	r.vsRef = map[string][]refRun{vsEmpty: {ref(20), ref(30), ref(25)}, vsWarm: {ref(16), ref(20), ref(18)}}
	dir := t.TempDir()
	for sc, lint := range map[string][]int64{vsEmpty: {2000, 3000, 2500}, vsWarm: {700, 900, 800}} {
		for i, ms := range lint {
			report := filepath.Join(dir, sc+string(rune('0'+i))+".json")
			b, _ := json.Marshal(map[string][]step{"steps": {{Name: "test", DurationMs: 4000}, {Name: "lint", DurationMs: ms}, {Name: "build", DurationMs: 3000}}})
			if err := os.WriteFile(report, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := r.addSteps(sc, report); err != nil {
				t.Fatal(err)
			}
		}
	}
	md := r.markdown()
	for _, want := range []string{
		"3 round(s), alternating order",
		// Medians: 11 s against 25 s; 5 s against 18 s.
		"| go-service vs reference CLIs, empty Go cache, median | 11.00 s | CLIs 25.00 s | 0.44× |",
		"| go-service vs reference CLIs, warm Go cache, one-line change, median | 5.00 s | CLIs 18.00 s | 0.28× |",
		// Spreads, and the ratios within a round: 10/20, 12/30, 11/25;
		// 5/16, 4/20, 6/18.
		"| go-service vs reference CLIs, empty Go cache, spread (min–max) | 10.00–12.00 s | CLIs 20.00–30.00 s | 0.40–0.50× |",
		"| go-service vs reference CLIs, warm Go cache, one-line change, spread (min–max) | 4.00–6.00 s | CLIs 16.00–20.00 s | 0.20–0.33× |",
		// staticcheck 3 s + gosec 4 s against paved's lint step's median.
		"| lint | 7.00 s | 2.50 s | 7.00 s | 0.80 s |",
		"| `staticcheck` | lint |",
		"| `gosec` | lint |",
		"- empty Go cache: test 4000.0 ms, lint 2500.0 ms, build 3000.0 ms",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the results lack %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, ", min |") {
		t.Errorf("a row still gives the minimum alone:\n%s", md)
	}
}

func TestCounterpart(t *testing.T) {
	for cmd, want := range map[string]string{
		"go vet": "test", "go test -cover": "test", "staticcheck": "lint", "gosec": "lint", "ko build": "build + publish",
		"syft linux/amd64": "sbom", "trivy linux/arm64": "scan", "govulncheck": "scan", "cosign sign --recursive": "sign",
		"cosign attest spdxjson index": "attest", "crane manifest": "attest",
	} {
		if got := counterpart(cmd); got != want {
			t.Errorf("counterpart(%q) = %q, want %q", cmd, got, want)
		}
	}
	for _, g := range workGroups {
		if g.name == "lint" && len(g.steps) == 1 && g.steps[0] == "lint" {
			return
		}
	}
	t.Errorf("no work group for paved's lint step: %v", workGroups)
}

func TestCheckSARIF(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		log string
		ok  bool
	}{
		"ok":      {`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gosec"}},"results":[]}]}`, true},
		"no runs": {`{"version":"2.1.0","runs":[]}`, false},
		"empty":   {``, false},
		"text":    {`main.go:3:2: something`, false},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".sarif")
		if err := os.WriteFile(p, []byte(c.log), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := checkSARIF(p); (err == nil) != c.ok {
			t.Errorf("%s: checkSARIF = %v, want ok %v", name, err, c.ok)
		}
	}
}
