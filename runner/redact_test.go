package runner

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:s3cret@proxy.example/", "https://proxy.example/"},
		{"https://ghp_token@github.com/acme/svc.git", "https://github.com/acme/svc.git"},
		{"https://u:p@ss@h/x", "https://h/x"}, // a password may hold an @
		{"https://u:p%40ss@h:8443", "https://h:8443"},
		{"http://u:p@[::1]:8080/mod", "http://[::1]:8080/mod"},
		{"ssh://git@host:22/r.git", "ssh://host:22/r.git"},
		{"https://h/mod/@v/list", "https://h/mod/@v/list"}, // an @ in the path is no user
		{"git@github.com:a/b.git", "git@github.com:a/b.git"},
		{"direct", "direct"},
		{"", ""},
		// GOPROXY lists, both separators, credentials anywhere.
		{"https://u:pw@a,direct|https://b", "https://a,direct|https://b"},
		{"https://a,https://u:pw@b|off", "https://a,https://b|off"},
		{"https://u1:p1@a|https://u2:p2@b,direct", "https://a|https://b,direct"},
		{"https://u:p,w|x@a/", "https://a/"}, // separators inside a password
		{"GOPROXY=https://u:pw@a,direct", "GOPROXY=https://a,direct"},
		// Text that quotes URLs: go's errors, a command line.
		{"go: example.com/m@v1.0.0: reading http://user:xxxxx@127.0.0.1:9/example.com/m/@v/v1.0.0.mod: 404 Not Found",
			"go: example.com/m@v1.0.0: reading http://127.0.0.1:9/example.com/m/@v/v1.0.0.mod: 404 Not Found"},
		{`git clone "https://tok@h/r" failed`, `git clone "https://h/r" failed`},
		{"a https://u:p@h\nb https://v:q@i", "a https://h\nb https://i"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "git@github.com:a/b.git", "", "://@", "https://h/x@y",
		"https://u:pw@a,direct|https://b", "reading https://u:p@h/m/@v/list: 404", "http://u:p@[::1]:1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := RedactURL(s)
		if len(r) > len(s) {
			t.Fatalf("RedactURL grew %q to %q", s, r)
		}
		if again := RedactURL(r); again != r {
			t.Fatalf("RedactURL(%q) = %q, but again %q: credentials were left", s, r, again)
		}
		// What remains of every URL has no user information.
		for rest := r; ; {
			i := strings.Index(rest, "://")
			if i < 0 {
				break
			}
			rest = rest[i+3:]
			end := strings.IndexFunc(rest, endsAuthority)
			if end < 0 {
				end = len(rest)
			}
			if strings.Contains(rest[:end], "@") {
				t.Fatalf("RedactURL(%q) = %q keeps user information", s, r)
			}
		}
		// Wherever Go's URL parser finds user information after a scheme,
		// none is left. (A scheme-relative "//u@h" is no remote, proxy or
		// link that paved is given.)
		if u, err := url.Parse(s); err == nil && u.User != nil && u.Scheme != "" {
			if after, err := url.Parse(r); err == nil && after.User != nil {
				t.Fatalf("%q kept user information %q in %q", s, after.User, r)
			}
		}
	})
}

const leak = "s3cret-never-shown"

// TestRunRedactsCredentials: a step's error and summary quote a URL with a
// password, and a cached step's value holds one; none of it reaches the
// step report, the progress lines, the outcome's error or the cache.
func TestRunRedactsCredentials(t *testing.T) {
	proxy := "https://user:" + leak + "@proxy.example/"
	cache, err := NewCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var progress strings.Builder
	var g Graph
	g.Add(keyedFuncStep{&funcStep{name: "download", key: func(Inputs) string { return "k" }, run: func(context.Context, Inputs) (*Result, error) {
		return NewResult(map[string]any{"proxy": proxy, "n": 1}, "from "+proxy)
	}}})
	g.Add(&funcStep{name: "build", run: func(context.Context, Inputs) (*Result, error) {
		return &Result{Summary: "tried " + proxy}, errors.New("go: reading " + proxy + "m/@v/list: 404 Not Found")
	}}, "download")
	o, err := (&Runner{Cache: cache, Progress: NewDisplay(&progress)}).Run(context.Background(), &g)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	b, _ := json.Marshal(o.Steps)
	if strings.Contains(string(b), leak) {
		found = append(found, "step reports "+string(b))
	}
	if strings.Contains(progress.String(), leak) {
		found = append(found, "progress "+progress.String())
	}
	if o.Err == nil || strings.Contains(o.Err.Error(), leak) {
		found = append(found, "outcome error "+o.Err.Error())
	}
	filepath.Walk(cache.Dir(), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), leak) {
				found = append(found, "cache file "+p+": "+string(b))
			}
		}
		return nil
	})
	if len(found) > 0 {
		t.Fatalf("the password leaked:\n%s", strings.Join(found, "\n"))
	}
	if !strings.Contains(o.Steps[1].Error, "https://proxy.example/m/@v/list") {
		t.Errorf("error lost more than the credentials: %q", o.Steps[1].Error)
	}
	var v struct {
		Proxy string
		N     json.Number
	}
	if err := o.Results["download"].Decode(&v); err != nil || v.Proxy != "https://proxy.example/" || v.N != "1" {
		t.Errorf("cached value = %+v, %v", v, err)
	}
}

// TestReportRedact: whatever the pipeline filled in, Redact leaves no
// credentials in the report's strings, maps included.
func TestReportRedact(t *testing.T) {
	cred := "https://u:" + leak + "@h/x"
	r := NewReport("go-service", RunContext{Repo: cred, Dir: "/src"}, time.Unix(0, 0))
	r.Warnings = []string{"fetching " + cred}
	r.Test = &TestReport{Failures: []TestFailure{{Package: "p", Output: "GOPROXY=" + cred}}}
	r.Scan = &ScanReport{Counts: map[string]int{"CRITICAL": 1}, Violations: []string{cred}}
	r.Steps = []StepReport{{Name: "s", Error: cred}}
	r.Redact()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), leak) {
		t.Fatalf("report keeps the password:\n%s", b)
	}
	if r.Source.Repo != "https://h/x" || r.Scan.Counts["CRITICAL"] != 1 || r.Source.Dir != "/src" {
		t.Fatalf("redaction changed more than credentials: %s", b)
	}
}
