package tests

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startWatcher signals once paved reports the test step started.
type startWatcher struct {
	ch  chan struct{}
	buf bytes.Buffer
}

func (b *startWatcher) Write(p []byte) (int, error) {
	n, err := b.buf.Write(p)
	if strings.Contains(b.buf.String(), "test started") && b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	return n, err
}

// TestInterruptCancelsCleanly sends SIGINT while steps run: paved stops
// its steps and their processes, and exits 130 promptly.
func TestInterruptCancelsCleanly(t *testing.T) {
	src := copyExample(t)
	// A test that would run for a minute keeps the test step busy.
	os.WriteFile(src+"/slow_test.go", []byte("package main\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\nfunc TestSlow(t *testing.T) { time.Sleep(time.Minute) }\n"), 0o644)
	cmd := exec.Command(pavedBin, "run", "go-service", "--source", src, "--no-cache", "--vuln-db", demoDB)
	started := make(chan struct{})
	stderr := &startWatcher{ch: started}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the test step never started")
	}
	time.Sleep(2 * time.Second) // let go test start its test binary
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("exit: %v, want 130", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("paved did not stop within 30s of SIGINT")
	}
	out, _ := exec.Command("pgrep", "-f", "go-service.test").Output()
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("test binaries still running after paved exited: pids %s", out)
	}
}
