//go:build unix

// Package cputime measures the CPU time benchmarks report beside wall
// time, which on a shared machine says more about the work done. It is
// light (the standard library only), so any module's tests may import it.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Used is the user and system time of this process and of the children
// it has waited for.
func Used(t testing.TB) time.Duration {
	t.Helper()
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			t.Fatal(err)
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
