package python

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCoverage(t *testing.T) {
	c, err := ParseCoverage(strings.NewReader(`<?xml version="1.0" ?>
<coverage version="6.5.0" timestamp="1" lines-valid="8" lines-covered="6" line-rate="0.75" branches-covered="1" branches-valid="2" branch-rate="0.5" complexity="0">
<packages/></coverage>`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Percent() != 70 {
		t.Errorf("percent %v, want 70 (7 of 10 lines and branches)", c.Percent())
	}
	for _, bad := range []string{"", "<report/>", `<coverage lines-valid="2"/>`, `<coverage lines-valid="2" lines-covered="3"/>`, `<coverage lines-valid="x" lines-covered="1"/>`, `<coverage lines-valid="-1" lines-covered="-1"/>`} {
		if _, err := ParseCoverage(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseJUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "junit", "pytest.xml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseJUnit(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Passed != 1 || c.Failed != 2 || c.Skipped != 1 || len(c.Failures) != 2 {
		t.Fatalf("%+v", c)
	}
	if f := c.Failures[0]; f.Name() != "tests.test_job.test_sum" || f.File != "tests/test_job.py" || f.Line != 7 {
		t.Errorf("first failure %s at %s:%d", f.Name(), f.File, f.Line)
	}
	if f := c.Failures[1]; f.Name() != "tests.test_broken" || f.Test != "" {
		t.Errorf("collection error named %q", f.Name())
	}
}

func FuzzParseCoverage(f *testing.F) {
	addSeeds(f, "cobertura", "*.xml")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCoverage(strings.NewReader(s))
		if err != nil {
			return
		}
		if p := c.Percent(); p < 0 || p > 100 {
			t.Fatalf("coverage %v%% from %+v", p, c)
		}
	})
}

func FuzzParseJUnit(f *testing.F) {
	addSeeds(f, "junit", "*.xml")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseJUnit(strings.NewReader(s))
		if err != nil {
			return
		}
		if c.Failed != len(c.Failures) || c.Passed < 0 || c.Skipped < 0 {
			t.Fatalf("%d failed but %d failures", c.Failed, len(c.Failures))
		}
		for _, fl := range c.Failures {
			if fl.Line < 0 || len(fl.Output) > maxFailureOutput+len("…") {
				t.Fatalf("failure %+v", fl)
			}
		}
	})
}
