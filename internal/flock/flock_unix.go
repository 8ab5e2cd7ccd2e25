//go:build unix

// Package flock takes advisory file locks, the one way paved's processes
// share a cache entry or an event spool safely.
package flock

import (
	"errors"
	"os"
	"syscall"
)

// Works says whether the locks protect anything on this system.
const Works = true

// TryShared takes a shared lock on f without waiting; false means another
// process holds it exclusively. Closing f releases it.
func TryShared(f *os.File) (bool, error) { return try(f, syscall.LOCK_SH) }

// TryExclusive takes an exclusive lock on f without waiting; false means
// another process holds a lock on it. Closing f releases it.
func TryExclusive(f *os.File) (bool, error) { return try(f, syscall.LOCK_EX) }

// Exclusive takes an exclusive lock on f, waiting for it. Closing f
// releases it.
func Exclusive(f *os.File) error { return wait(f, syscall.LOCK_EX) }

// Shared takes a shared lock on f, waiting while another process holds it
// exclusively. Closing f releases it.
func Shared(f *os.File) error { return wait(f, syscall.LOCK_SH) }

func wait(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
		return nil
	}
}

func try(f *os.File, how int) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
	}
}
