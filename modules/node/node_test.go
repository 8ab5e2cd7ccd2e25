package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCoverageSummary(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "coverage-summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCoverageSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Statements != (Metric{Total: 42, Covered: 31}) || c.Lines != (Metric{40, 30}) || c.Functions != (Metric{6, 5}) || c.Branches != (Metric{10, 7}) {
		t.Errorf("coverage %+v", c)
	}
	if got := c.Statements.Percent(); got < 73.80 || got > 73.81 {
		t.Errorf("statements %.3f%%", got)
	}
	if (Metric{}).Percent() != 100 {
		t.Error("nothing to cover is not 100%")
	}
	for name, doc := range map[string]string{
		"not json":        `{`,
		"no total":        `{"/a.ts":{}}`,
		"no statements":   `{"total":{"lines":{"total":1,"covered":1}}}`,
		"more covered":    `{"total":{"lines":{"total":1,"covered":2},"statements":{"total":1,"covered":1}}}`,
		"negative":        `{"total":{"lines":{"total":-1,"covered":0},"statements":{"total":1,"covered":1}}}`,
		"fraction":        `{"total":{"lines":{"total":1.5,"covered":0},"statements":{"total":1,"covered":1}}}`,
		"missing covered": `{"total":{"lines":{"total":1},"statements":{"total":1,"covered":1}}}`,
	} {
		if _, err := ParseCoverageSummary([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseJUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseJUnit(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Passed != 2 || r.Failed != 1 || r.Skipped != 1 || len(r.Failures) != 1 {
		t.Fatalf("result %+v", r)
	}
	f := r.Failures[0]
	if f.Test != "http > greets" || f.Package != "test/app.test.ts" || f.File != "test/app.test.ts" || f.Line != 29 || !strings.Contains(f.Output, "deeply equal") {
		t.Errorf("failure %+v", f)
	}
	if _, err := ParseJUnit([]byte(`<html></html>`)); err == nil {
		t.Error("an HTML document parsed as JUnit")
	}
	if _, err := ParseJUnit([]byte(`<testsuite><testcase name="a"><failure>x</failure></testcase></testsuite>`)); err != nil {
		t.Errorf("a single testsuite: %v", err)
	}
}

func TestParsePackage(t *testing.T) {
	p, err := ParsePackage([]byte(`{"name":"svc","type":"module","main":"dist/main.js","scripts":{"test":"vitest run"},"files":["dist"]}`))
	if err != nil || p.Main != "dist/main.js" || p.Scripts["test"] != "vitest run" || p.Files[0] != "dist" {
		t.Fatalf("%+v %v", p, err)
	}
	for name, doc := range map[string]string{
		"escaping main": `{"main":"../x.js"}`,
		"absolute main": `{"main":"/x.js"}`,
		"glob files":    `{"files":["dist/**"]}`,
		"not json":      `[`,
	} {
		if _, err := ParsePackage([]byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRunner(t *testing.T) {
	for script, want := range map[string]string{
		"vitest run":                             "vitest",
		"NODE_OPTIONS=--x jest --ci":             "jest",
		"npx vitest":                             "vitest",
		"./node_modules/.bin/jest":               "jest",
		"c8 --reporter=json-summary node --test": "",
		"":                                       "",
	} {
		if got := Runner(script); got != want {
			t.Errorf("Runner(%q) = %q, want %q", script, got, want)
		}
	}
}

func TestDetect(t *testing.T) {
	for lock, want := range map[string]string{"package-lock.json": "npm", "pnpm-lock.yaml": "pnpm", "yarn.lock": "yarn"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"x"}`), 0o644)
		os.WriteFile(filepath.Join(dir, lock), nil, 0o644)
		p, err := Open(dir)
		if err != nil || p.Manager.Name != want || p.Manager.Lockfile != lock {
			t.Errorf("%s: %+v %v", lock, p, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"x"}`), 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "lockfile") {
		t.Errorf("no lockfile: %v", err)
	}
	m := Manager{Name: "no-such-manager-here", Lockfile: "x.lock"}
	if _, err := m.Tool(); err == nil || !strings.Contains(err.Error(), "not on PATH") {
		t.Errorf("missing tool: %v", err)
	}
}

func FuzzParseCoverageSummary(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "coverage-summary.json"))
	f.Add(b)
	f.Add([]byte(`{"total":{"lines":{"total":1e3,"covered":"x"},"statements":{"total":0,"covered":0}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCoverageSummary(b)
		if err != nil {
			return
		}
		for _, m := range []Metric{c.Statements, c.Lines, c.Functions, c.Branches} {
			if p := m.Percent(); m.Covered > m.Total || m.Covered < 0 || p < 0 || p > 100 {
				t.Fatalf("metric %+v (%v%%) from %q", m, p, b)
			}
		}
	})
}

func FuzzParseJUnit(f *testing.F) {
	b, _ := os.ReadFile(filepath.Join("testdata", "junit.xml"))
	f.Add(b)
	f.Add([]byte(`<testsuite><testsuite><testcase><error/></testcase></testsuite></testsuite>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseJUnit(b)
		if err != nil {
			return
		}
		if r.Failed != len(r.Failures) || r.Passed < 0 || r.Skipped < 0 {
			t.Fatalf("%+v from %q", r, b)
		}
	})
}

func FuzzParsePackage(f *testing.F) {
	f.Add([]byte(`{"name":"svc","main":"dist/main.js","files":["dist"],"scripts":{"test":"vitest"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePackage(b)
		if err != nil {
			return
		}
		if p.Main != "" && relPath(p.Main) != nil {
			t.Fatalf("main %q accepted", p.Main)
		}
	})
}
