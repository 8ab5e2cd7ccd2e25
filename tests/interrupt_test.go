//go:build unix

package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// slowTest is a test for the service that records its process id in the
// file named by the format argument, then keeps the test step busy: the
// file appearing is the sign that go test runs the service's test binary.
const slowTest = `package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestSlow(t *testing.T) {
	pidFile := %q
	if err := os.WriteFile(pidFile+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(pidFile+".tmp", pidFile); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
}
`

// TestInterruptCancelsCleanly sends SIGINT while the service's test binary
// runs: paved stops its steps and their processes, and exits 130 promptly.
func TestInterruptCancelsCleanly(t *testing.T) {
	src := copyExample(t)
	pidFile := filepath.Join(t.TempDir(), "test-binary.pid")
	if err := os.WriteFile(filepath.Join(src, "slow_test.go"), fmt.Appendf(nil, slowTest, pidFile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pavedBin, "run", "go-service", "--source", src, "--no-cache", "--vuln-db", demoDB)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Wait for the test binary to say it runs (compiling it can take a
	// while on a busy machine).
	var pid int
	deadline := time.Now().Add(3 * time.Minute)
	for pid == 0 {
		select {
		case err := <-done:
			t.Fatalf("paved exited (%v) before the service's test ran:\n%s", err, stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		b, err := os.ReadFile(pidFile)
		switch {
		case err == nil:
			if pid, err = strconv.Atoi(string(b)); err != nil {
				t.Fatalf("%s: %v", pidFile, err)
			}
		case !errors.Is(err, os.ErrNotExist):
			t.Fatal(err)
		case time.Now().After(deadline):
			cmd.Process.Kill()
			<-done
			t.Fatalf("the service's test binary did not start within 3 minutes:\n%s", stderr.String())
		}
	}
	if !alive(t, pid) {
		t.Fatalf("test binary %d is not running before the interrupt", pid)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit: %v, want 130\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("paved did not stop within 30s of SIGINT:\n%s", stderr.String())
	}
	// paved kills the test binary's process group before it exits; the
	// kernel may take a moment to finish a killed process off.
	for end := time.Now().Add(5 * time.Second); alive(t, pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the service's test binary (pid %d) still runs after paved exited", pid)
		}
	}
}

// alive reports whether process pid exists and is not a zombie (an orphan
// that has exited but that no init has reaped yet).
func alive(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat("/proc/self/stat"); err == nil {
			return false
		}
		// No procfs: ask the kernel, which counts zombies as alive.
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The state follows the command name, which is in parentheses and
	// may itself hold ") ".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	state := strings.Fields(string(b[i+1:]))
	return len(state) > 0 && state[0] != "Z" && state[0] != "X"
}
