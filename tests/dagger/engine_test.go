package daggertest

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/pavedhq/paved/internal/testtools/loopback"
)

// bridgeAddr is the engine's side of its container bridge (Dagger's
// default network, 10.87.0.0/16): containers reach the module proxy the
// engine's namespace serves there.
const bridgeAddr = "10.87.0.1"

// engine is a Dagger engine running in namespaces of its own.
type engine struct {
	tools   string // the CLI and engine binaries
	sock    string
	scratch string
	proxy   string // GOPROXY as the engine's containers reach it
	cmd     *exec.Cmd
	logs    *bytes.Buffer
	init    int      // engine.sh, PID 1 of the engine's namespaces
	ns      []string // the namespaces it ran in, as /proc/PID/ns links read
	done    chan error
}

// startEngine starts the engine as engine.sh describes and waits until it
// answers the CLI.
func startEngine(t *testing.T, tools, content, contentDigest string) *engine {
	t.Helper()
	e := &engine{tools: tools, scratch: t.TempDir(), logs: &bytes.Buffer{}, done: make(chan error, 1)}
	e.sock = filepath.Join(e.scratch, "engine.sock")
	port := loopback.FreePort(t)
	e.proxy = fmt.Sprintf("http://%s:%d", bridgeAddr, port)
	gomoddl := filepath.Join(goEnv(t, "GOMODCACHE"), "cache", "download")
	script, err := filepath.Abs("engine.sh")
	if err != nil {
		t.Fatal(err)
	}
	e.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "--net", "--pid", "--fork", "--mount-proc",
		"--kill-child=SIGTERM", "sh", script, tools, e.scratch, e.sock, content, gomoddl, strconv.Itoa(port))
	e.cmd.Env = append(os.Environ(),
		"DAGGER_GO_SDK_MANIFEST_DIGEST="+contentDigest,
		"_DAGGER_ENGINE_SYSTEMENV_GOPROXY="+e.proxy,
	)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatalf("starting the engine: %v", err)
	}
	go func() { e.done <- e.cmd.Wait() }()
	t.Logf("engine: unshare pid %d, socket %s, GOPROXY %s", e.cmd.Process.Pid, e.sock, e.proxy)

	query := filepath.Join(e.scratch, "version.graphql")
	if err := os.WriteFile(query, []byte("{ version }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case err := <-e.done:
			e.done <- err
			t.Fatalf("the engine exited at start: %v\n%s", err, e.logs.String())
		default:
		}
		if e.ns == nil {
			e.init, e.ns = namespacesOf(e.cmd.Process.Pid)
		}
		if _, err := os.Stat(e.sock); err == nil {
			out, err := e.dagger(t, e.scratch, "query", "--doc", query) // outside any module
			if err == nil {
				t.Logf("engine ready: %s", strings.TrimSpace(out.stdout))
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not answer within 3 minutes\n%s", e.logs.String())
		}
		time.Sleep(time.Second)
	}
}

// stop ends the engine through the PID of engine.sh, its namespaces'
// init (unshare ignores SIGTERM): the script stops the engine, and when it
// exits the kernel ends whatever else runs in the namespace. Then unshare,
// started here, is waited for.
func (e *engine) stop(t *testing.T) {
	t.Helper()
	if e.init == 0 {
		_ = syscall.Kill(e.cmd.Process.Pid, syscall.SIGKILL) // its child gets SIGTERM (--kill-child)
	} else {
		_ = syscall.Kill(e.init, syscall.SIGTERM)
	}
	select {
	case <-e.done:
	case <-time.After(2 * time.Minute):
		if e.init != 0 {
			_ = syscall.Kill(e.init, syscall.SIGKILL) // PID 1: the whole namespace goes
		}
		_ = e.cmd.Process.Kill()
		<-e.done
		t.Errorf("the engine did not stop within 2 minutes of SIGTERM; killed")
	}
}

// namespacesOf returns unshare's child (PID 1 of the engine's namespaces)
// and the namespaces it runs in, or nothing while it has not started.
func namespacesOf(pid int) (int, []string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, nil
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, nil
	}
	child, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, nil
	}
	var ns []string
	for _, n := range []string{"pid", "mnt", "net"} {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", child, n))
		if err != nil {
			return 0, nil
		}
		ns = append(ns, l)
	}
	return child, ns
}

// leftovers lists what is left of the engine: any process in its
// namespaces and any host mount under its scratch directory.
func (e *engine) leftovers() []string {
	var left []string
	if e.ns == nil {
		return []string{"the engine's namespaces were never read"}
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		for _, want := range e.ns {
			for _, n := range []string{"pid", "mnt", "net"} {
				if l, err := os.Readlink("/proc/" + p.Name() + "/ns/" + n); err == nil && l == want {
					cmdline, _ := os.ReadFile("/proc/" + p.Name() + "/cmdline")
					left = append(left, fmt.Sprintf("process %s (%s) in %s", p.Name(), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), want))
				}
			}
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if strings.Contains(s.Text(), e.scratch) {
				left = append(left, "mount: "+s.Text())
			}
		}
	}
	return left
}

// result is one run of the Dagger CLI.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) lastLine() string {
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// dagger runs the Dagger CLI against the engine in dir; a failure to start
// it fails t, a non-zero exit is returned.
func (e *engine) dagger(t *testing.T, dir string, args ...string) (result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(e.tools, "dagger"), append([]string{"--progress=plain"}, args...)...)
	cmd.Dir = dir
	home := filepath.Join(e.scratch, "home")
	cmd.Env = append(os.Environ(),
		"_EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://"+e.sock,
		"_EXPERIMENTAL_DAGGER_CLI_BIN="+filepath.Join(e.tools, "dagger"),
		"DAGGER_NO_NAG=1", "DO_NOT_TRACK=1", "NO_COLOR=1",
		"XDG_CONFIG_HOME="+home+"/config", "XDG_DATA_HOME="+home+"/data", "XDG_STATE_HOME="+home+"/state", "XDG_CACHE_HOME="+home+"/cache",
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return r, nil
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		return r, fmt.Errorf("dagger %s: exit %d", strings.Join(args, " "), r.code)
	default:
		t.Fatalf("running dagger %v: %v", args, err)
	}
	return r, nil
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// registry starts Debian's docker-registry on a free loopback port and
// returns its host:port, stopped by its PID when t ends.
func registry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatal("docker-registry is not installed (apt-get install docker-registry; .ci/run installs it)")
	}
	return loopback.DockerRegistry(t, bin)
}
