package worker

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The test binary stands in for paved-worker when this variable names how
// to behave: the tests need a real process that answers and then fails or
// dies, which no real worker does on demand.
const modeEnv = "PAVED_WORKER_TEST_MODE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(modeEnv); mode != "" {
		fakeWorker(mode)
	}
	os.Exit(m.Run())
}

func fakeWorker(mode string) {
	answer := `{"result":{"value":{"counts":{}},"summary":"no vulnerabilities"}}`
	switch mode {
	case "ok":
		fmt.Println(answer)
		os.Exit(0)
	case "exit1":
		fmt.Println(answer)
		os.Exit(1)
	case "killed":
		fmt.Println(answer)
		os.Stdout.Sync()
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "partial":
		fmt.Print(answer[:len(answer)/2])
		os.Stdout.Sync()
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	select {} // unreachable: SIGKILL cannot be caught
}

func self(t *testing.T) Worker {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Worker{Path: exe}
}

func TestCallSucceedsOnCleanExit(t *testing.T) {
	var resp struct {
		Result struct{ Summary string } `json:"result"`
	}
	if err := self(t).Call(context.Background(), nil, []string{modeEnv + "=ok"}, map[string]string{}, &resp, nil); err != nil {
		t.Fatal(err)
	}
	if resp.Result.Summary != "no vulnerabilities" {
		t.Errorf("summary %q", resp.Result.Summary)
	}
}

// A worker that wrote a whole answer and then failed or was killed has not
// answered: the call fails, naming how the worker ended.
func TestCallFailsWhenTheWorkerFails(t *testing.T) {
	for mode, want := range map[string]string{
		"exit1":   "exit status 1",
		"killed":  "signal: killed",
		"partial": "signal: killed",
	} {
		t.Run(mode, func(t *testing.T) {
			var resp map[string]any
			err := self(t).Call(context.Background(), nil, []string{modeEnv + "=" + mode}, map[string]string{}, &resp, nil)
			if err == nil {
				t.Fatalf("call succeeded with answer %v", resp)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}
