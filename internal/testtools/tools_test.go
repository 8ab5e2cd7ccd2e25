package testtools

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// outcome runs f with a recording testing.TB and says how it ended:
// "fatal", "skip" or "returned".
func outcome(t *testing.T, f func(testing.TB)) (string, string) {
	t.Helper()
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
		r.how = "returned"
	}()
	<-done
	return r.how, r.msg
}

// recorder is a testing.TB that records how the code under test ended it.
// Fatal and Skip stop the goroutine as the testing package's do.
type recorder struct {
	testing.TB
	how, msg string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(string, ...any)       {}
func (r *recorder) Fatalf(f string, a ...any) { r.end("fatal", f, a...) }
func (r *recorder) Skipf(f string, a ...any)  { r.end("skip", f, a...) }
func (r *recorder) end(how, f string, a ...any) {
	r.how, r.msg = how, fmt.Sprintf(f, a...)
	runtime.Goexit()
}

// TestGoInstallFailsInCI: a tool that cannot be built skips the test
// locally and fails it in CI, and so does -short.
func TestGoInstallFailsInCI(t *testing.T) {
	t.Setenv(DirEnv, t.TempDir())
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	unbuildable := func(tb testing.TB) { GoInstall(tb, "example.invalid/nothing/cmd/nothing", "v0.0.1") }
	for _, c := range []struct {
		ci, short bool
		want      string
	}{
		{false, false, "skip"},
		{true, false, "fatal"},
		{false, true, "skip"},
		{true, true, "fatal"},
	} {
		if c.ci {
			t.Setenv("CI", "true")
		} else {
			t.Setenv("CI", "")
		}
		setShort(t, c.short)
		how, msg := outcome(t, unbuildable)
		if how != c.want {
			t.Errorf("CI=%v -short=%v: %s (%s), want %s", c.ci, c.short, how, msg, c.want)
		}
		if !strings.Contains(msg, "example.invalid/nothing/cmd/nothing@v0.0.1") {
			t.Errorf("CI=%v -short=%v: message %q does not name the tool", c.ci, c.short, msg)
		}
	}
}

func setShort(t *testing.T, short bool) {
	t.Helper()
	old := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", fmt.Sprint(short)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set("test.short", old) })
}

// TestGoInstallUsesCache: a binary already in the cache (as .ci/run leaves
// it) is used as is, even under -short, with no go command run.
func TestGoInstallUsesCache(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	t.Setenv("CI", "true")
	t.Setenv("PATH", "") // no go command to run
	setShort(t, true)
	want := filepath.Join(dir, "tool-v1.2.3", "tool")
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var got string
	if how, msg := outcome(t, func(tb testing.TB) { got = GoInstall(tb, "example.invalid/cmd/tool", "v1.2.3") }); how != "returned" || got != want {
		t.Errorf("GoInstall = %q (%s %s), want %s", got, how, msg, want)
	}
}
