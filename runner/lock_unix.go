//go:build unix

package runner

import (
	"errors"
	"os"
	"syscall"
)

// lockShared takes a shared advisory lock on f without waiting: a run holds
// one on every cache entry it reads or writes, so a prune leaves it alone.
// It reports false when a prune holds the entry.
func lockShared(f *os.File) (bool, error) { return flock(f, syscall.LOCK_SH) }

// lockExclusive takes an exclusive advisory lock on f without waiting; it
// reports false while any run holds the entry.
func lockExclusive(f *os.File) (bool, error) { return flock(f, syscall.LOCK_EX) }

func flock(f *os.File, how int) (bool, error) {
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

// locksWork says whether the locks above protect anything here.
const locksWork = true
