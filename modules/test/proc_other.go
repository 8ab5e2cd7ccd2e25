//go:build !unix

package test

import (
	"os/exec"
	"time"
)

// inProcessGroup only bounds the wait: without process groups, cancelling
// the context kills the go command itself (exec.CommandContext's default).
func inProcessGroup(cmd *exec.Cmd) (stop func()) {
	cmd.WaitDelay = 6 * time.Second
	return func() {}
}
