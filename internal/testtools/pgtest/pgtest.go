// Package pgtest starts a real PostgreSQL server for tests: initdb into a
// temporary directory, the server listening only on a unix socket there,
// stopped when the test ends. It needs the PostgreSQL server binaries
// (Debian's postgresql package); without them a test skips, or fails under
// CI, where a test that cannot run must not pass.
package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
)

// bin finds a PostgreSQL server binary on PATH or where Debian installs it.
func bin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Strings(m)
	if len(m) > 0 {
		return m[len(m)-1], nil
	}
	return "", fmt.Errorf("%s not found on PATH or under /usr/lib/postgresql (install Debian's postgresql package)", name)
}

// Options tune the server.
type Options struct {
	// NoFsync turns fsync off, for tests that do not measure durability.
	NoFsync bool
}

// Server is a running PostgreSQL server.
type Server struct {
	// DSN is the postgres:// URL of its postgres database, as superuser.
	DSN  string
	stop func() error
}

// Stop stops the server at once and removes its files.
func (s *Server) Stop() error { return s.stop() }

// Start starts a server for one test and stops it when the test ends.
func Start(t testing.TB, opts Options) string {
	t.Helper()
	s, err := Launch(opts)
	if err != nil {
		Unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("PostgreSQL: %v", err)
		}
	})
	return s.DSN
}

// Unavailable ends a test that needs a server Launch could not start:
// skipped, or failed under CI.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Skipf("PostgreSQL: %v", err)
}

// Launch starts a server; the caller stops it (TestMain).
func Launch(opts Options) (*Server, error) {
	initdb, err := bin("initdb")
	if err != nil {
		return nil, err
	}
	pgctl, err := bin("pg_ctl")
	if err != nil {
		return nil, err
	}
	// A short directory of our own: unix socket paths are limited to about
	// 100 bytes, and the server's user must be able to enter it.
	dir, err := os.MkdirTemp("", "pg")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Server, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			return fail(fmt.Errorf("running as root and no postgres or nobody user to run the server as: %w", err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(err)
		}
	}
	run := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %v: %w\n%s", filepath.Base(name), args, err, out)
		}
		return nil
	}
	if err := run(initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		return fail(err)
	}
	o := fmt.Sprintf("-k %s -c listen_addresses= -p 5432", dir)
	if opts.NoFsync {
		o += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	// -w waits until the server accepts connections.
	if err := run(pgctl, "-D", data, "-l", filepath.Join(dir, "log"), "-o", o, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return fail(fmt.Errorf("%w\n%s", err, log))
	}
	return &Server{
		DSN: "postgres://postgres@/postgres?host=" + dir + "&port=5432&sslmode=disable",
		stop: func() error {
			err := run(pgctl, "-D", data, "-m", "immediate", "-w", "stop")
			os.RemoveAll(dir)
			return err
		},
	}, nil
}
