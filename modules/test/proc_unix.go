//go:build unix

package test

import (
	"os/exec"
	"syscall"
	"time"
)

// gracePeriod is how long the go command and its test binaries get to exit
// after an interrupt before they are killed.
const gracePeriod = 3 * time.Second

// inProcessGroup puts cmd and everything it starts (compilers, test
// binaries) in a process group of its own, so that cancelling the context
// reaches them all: the group is interrupted, so the go command can remove
// its temporary files, then killed if it is still there after gracePeriod
// or once the go command has exited. Call stop after cmd.Wait.
//
// The group also keeps a terminal's Ctrl-C from reaching the children
// directly; the caller is expected to cancel ctx on interrupt.
func inProcessGroup(cmd *exec.Cmd) (stop func()) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * gracePeriod
	done := make(chan struct{})
	cmd.Cancel = func() error {
		pgid := -cmd.Process.Pid
		go func() {
			select {
			case <-done:
			case <-time.After(gracePeriod):
			}
			_ = syscall.Kill(pgid, syscall.SIGKILL)
		}()
		return syscall.Kill(pgid, syscall.SIGINT)
	}
	return func() { close(done) }
}
