//go:build unix

package test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunCancel cancels a run while a test sleeps for a minute and checks
// that Run returns promptly with the context's error and that the test
// binary is gone, not left behind as an orphan.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "pid")
	dir := writeModule(t, map[string]string{
		"slow/slow_test.go": `package slow

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := os.WriteFile(os.Getenv("PID_FILE"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Second)
}
`,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, Options{
			Dir:    dir,
			OutDir: t.TempDir(),
			Env:    append([]string{"PID_FILE=" + marker}, fixtureEnv...),
		})
		done <- outcome{res, err}
	}()

	pid := waitForPID(t, marker, done)
	cancel()
	start := time.Now()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancellation")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Run took %v to return after cancellation", took)
	}
	if o.res != nil || !errors.Is(o.err, context.Canceled) {
		t.Errorf("Run = %v, %v; want nil and context.Canceled", o.res, o.err)
	}
	if o.err != nil && !strings.Contains(o.err.Error(), dir) {
		t.Errorf("error %q does not name %s", o.err, dir)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("test binary %d still running after cancellation", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForPID waits for the sleeping test to write its pid.
func waitForPID[T any](t *testing.T, path string, done <-chan T) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case o := <-done:
			t.Fatalf("Run returned before the test started: %+v", o)
		default:
		}
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			pid, err := strconv.Atoi(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the test never started")
	return 0
}

// alive reports whether pid is a live process; a zombie (exited, not yet
// reaped by whoever inherited it) counts as gone.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: trust kill(2)
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}
