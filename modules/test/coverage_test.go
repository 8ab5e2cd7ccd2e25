package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCoverProfile(t *testing.T) {
	for _, tc := range []struct {
		name           string
		profile        string
		covered, total int64
		wantErr        string
	}{{
		name:    "empty",
		profile: "",
	}, {
		name:    "header only",
		profile: "mode: atomic\n",
	}, {
		name: "simple",
		profile: `mode: set
m/a/a.go:3.20,5.2 2 1
m/a/a.go:5.2,7.3 3 0
m/a/b.go:1.1,1.9 1 7
`,
		covered: 3, total: 6,
	}, {
		name: "duplicate blocks count once and a hit wins",
		profile: `mode: atomic
m/a/a.go:3.20,5.2 2 0
m/a/a.go:5.2,7.3 3 0
m/a/a.go:3.20,5.2 2 4
m/a/a.go:5.2,7.3 3 0
m/a/a.go:3.20,5.2 2 0
`,
		covered: 2, total: 5,
	}, {
		name:    "concatenated profiles and CRLF",
		profile: "mode: count\r\nm/a.go:1.1,2.2 4 1\r\nmode: count\r\nm/b.go:1.1,2.2 6 0\r\n",
		covered: 4, total: 10,
	}, {
		name:    "paths with spaces and colons",
		profile: "mode: set\nC:/my dir/a.go:1.1,2.2 2 1\n",
		covered: 2, total: 2,
	}, {
		name:    "counts with leading zeros",
		profile: "m/a.go:1.1,2.2 2 000\nm/a.go:3.1,4.2 1 0010\n",
		covered: 1, total: 3,
	}, {
		name:    "missing count",
		profile: "mode: set\nm/a.go:1.1,2.2 2\n",
		wantErr: "line 2",
	}, {
		name:    "bad position",
		profile: "mode: set\n\nm/a.go:1,2.2 2 1\n",
		wantErr: "line 3",
	}, {
		name:    "negative count",
		profile: "m/a.go:1.1,2.2 2 -1\n",
		wantErr: "line 1",
	}, {
		name:    "same block different statements",
		profile: "m/a.go:1.1,2.2 2 1\nm/a.go:1.1,2.2 3 1\n",
		wantErr: "2 and 3 statements",
	}, {
		name:    "huge statement count",
		profile: "m/a.go:1.1,2.2 99999999999 1\n",
		wantErr: "too large",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			covered, total, err := ParseCoverProfile(strings.NewReader(tc.profile))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([2]int64{tc.covered, tc.total}, [2]int64{covered, total}); diff != "" {
				t.Errorf("covered, total (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseCoverProfileMatchesCoverFunc checks the figure against go tool
// cover -func on a real profile whose blocks are listed once per test
// package (-coverpkg), each package covering a different part.
func TestParseCoverProfileMatchesCoverFunc(t *testing.T) {
	t.Parallel()
	dir := writeModule(t, map[string]string{
		"shared/shared.go": `package shared

func A(x int) int {
	if x > 0 {
		return x
	}
	return -x
}

func B(x int) int {
	for i := 0; i < x; i++ {
		x--
	}
	return x
}

func C() int {
	y := 3
	return y
}
`,
		"usea/usea_test.go": "package usea\n\nimport (\n\t\"testing\"\n\n\t\"" + fixtureModule + "/shared\"\n)\n\nfunc TestA(t *testing.T) { shared.A(1) }\n",
		"useb/useb_test.go": "package useb\n\nimport (\n\t\"testing\"\n\n\t\"" + fixtureModule + "/shared\"\n)\n\nfunc TestB(t *testing.T) { shared.B(2); shared.A(-1) }\n",
	})
	profile := filepath.Join(t.TempDir(), "cover.out")
	cmd := exec.Command("go", "test", "-covermode=atomic", "-coverpkg=./shared", "-coverprofile="+profile, "./usea", "./useb")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fixtureEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out)
	}
	b, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
	seen := map[string]bool{}
	dups := 0
	for _, l := range lines {
		key := l[:strings.LastIndexByte(l[:strings.LastIndexByte(l, ' ')], ' ')]
		if seen[key] {
			dups++
		}
		seen[key] = true
	}
	if dups == 0 {
		t.Fatalf("the fixture profile has no duplicate blocks to merge:\n%s", b)
	}
	covered, total, err := ParseCoverProfile(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if covered == 0 || covered == total {
		t.Errorf("covered %d of %d: the fixture should cover some but not all", covered, total)
	}
	if got, want := formatPercent(100*float64(covered)/float64(total)), coverFunc(t, dir, profile); got != want {
		t.Errorf("coverage %s%% (%d/%d), go tool cover -func says %s%%", got, covered, total, want)
	}
}

// FuzzParseCoverProfile checks the parser's invariants on any input:
// covered never exceeds total, and listing a profile twice changes nothing,
// since every block is then a duplicate.
func FuzzParseCoverProfile(f *testing.F) {
	f.Add("mode: set\nm/a.go:1.1,2.2 2 1\nm/a.go:3.1,4.2 1 0\n")
	f.Add("m/a.go:1.1,2.2 2 0\nm/a.go:1.1,2.2 2 3\n")
	f.Fuzz(func(t *testing.T, profile string) {
		covered, total, err := ParseCoverProfile(strings.NewReader(profile))
		if err != nil {
			return
		}
		if covered < 0 || total < 0 || covered > total {
			t.Fatalf("covered, total = %d, %d", covered, total)
		}
		c2, t2, err := ParseCoverProfile(strings.NewReader(profile + "\n" + profile))
		if err != nil {
			t.Fatalf("profile parses alone but not twice over: %v", err)
		}
		if c2 != covered || t2 != total {
			t.Errorf("twice over: %d/%d, once: %d/%d", c2, t2, covered, total)
		}
	})
}
