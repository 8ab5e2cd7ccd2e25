package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFailureLocations runs real failing tests, a panic and a package that
// does not compile, and checks each failure names the file and line CI
// annotations point at.
func TestFailureLocations(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"calc/calc.go": "package calc\n\nfunc Add(a, b int) int { return a - b }\n",
		"calc/calc_test.go": `package calc

import "testing"

func TestAdd(t *testing.T) {
	t.Log("adding")
	if Add(1, 2) != 3 {
		t.Errorf("Add(1, 2) = %d", Add(1, 2))
	}
}

func TestTable(t *testing.T) {
	t.Run("one", func(t *testing.T) {
		t.Fatal("sub fails")
	})
}

func TestPanic(t *testing.T) {
	var m map[string]int
	m["x"] = 1
}
`,
		"broken/broken.go":      "package broken\n\nfunc F() int {\n\treturn undefined\n}\n",
		"broken/broken_test.go": "package broken\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) { F() }\n",
	})
	res, err := run(t, dir, Options{SkipVet: true})
	if err == nil || res == nil {
		t.Fatalf("Run: %v, %v; want failures", res, err)
	}
	type loc struct {
		Name string
		File string
		Line int
	}
	var got []loc
	for _, f := range res.Failures {
		got = append(got, loc{f.Name(), f.File, f.Line})
	}
	want := []loc{
		{"example.com/svc/broken", "broken/broken.go", 4},
		{"example.com/svc/calc.TestAdd", "calc/calc_test.go", 8}, // the t.Errorf, not the t.Log before it
		{"example.com/svc/calc.TestTable/one", "calc/calc_test.go", 14},
		{"example.com/svc/calc.TestPanic", "calc/calc_test.go", 20},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("failure locations (-want +got):\n%s\n%+v", d, res.Failures)
	}
}

// FuzzLocate feeds arbitrary output to locate: it never panics, and a file
// it names lies inside the directory and exists there.
func FuzzLocate(f *testing.F) {
	f.Add("    calc_test.go:8: Add(1, 2) = -1\n--- FAIL: TestAdd (0.00s)\n", "TestAdd")
	f.Add("panic: boom\n\texample.com/svc/calc/calc_test.go:20 +0x28\n", "TestPanic")
	f.Add("# example.com/svc/calc\ncalc/calc.go:3:9: undefined: x\n", "")
	f.Add("../../etc/passwd.go:1:1: x\n/etc/x.go:1: y\n    ../calc.go:1: z\n", "T")
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "calc", "calc.go"), "package calc\n")
	writeFile(f, filepath.Join(dir, "calc", "calc_test.go"), "package calc\n")
	dirs := map[string]string{"example.com/svc/calc": filepath.Join(dir, "calc")}
	f.Fuzz(func(t *testing.T, out, test string) {
		fl := Failure{Package: "example.com/svc/calc", Test: test, Output: out}
		locate(&fl, dir, dirs)
		if fl.File == "" {
			if fl.Line != 0 {
				t.Fatalf("line %d with no file", fl.Line)
			}
			return
		}
		if fl.Line <= 0 || strings.HasPrefix(fl.File, "..") || filepath.IsAbs(fl.File) {
			t.Fatalf("located %s:%d", fl.File, fl.Line)
		}
		if _, err := os.Stat(filepath.Join(dir, fl.File)); err != nil {
			t.Fatal(err)
		}
	})
}

func writeFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
