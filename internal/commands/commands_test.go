package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pavedhq/paved/pipelines"
	"github.com/pavedhq/paved/runner"
)

// The commands are tested with a stand-in path that only prepares: real
// paths live in pipelines/goservice and are tested end to end in tests/.
func init() {
	prepareOnly := func(ctx context.Context, o pipelines.Options) (*pipelines.Run, error) {
		r, err := pipelines.Prepare(ctx, "stand-in", o)
		if err != nil {
			return nil, err
		}
		r.Graph = &runner.Graph{}
		return r, nil
	}
	for _, n := range []string{"go-service", "go-build", "go-test"} {
		pipelines.Register(n, prepareOnly, n == "go-service")
	}
}

func pavedCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := New("v1.2.3", &out, &errb)
	c.SetArgs(args)
	err = c.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := pavedCmd(t, "version")
	if err != nil || out != "v1.2.3\n" {
		t.Fatalf("version: %q, %v", out, err)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	src := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "takes 1 argument"},
		{[]string{"run", "nope"}, `unknown pipeline "nope"`},
		{[]string{"run", "go-service", "--nope"}, "--nope"},
		{[]string{"build", "--source", src, "--platform", "plan9"}, "--platform"},
		{[]string{"test", "--source", src, "--coverage", "101"}, "--coverage"},
		{[]string{"test", "--source", src, "--report", "/does/not/exist/r.json"}, "--report"},
		{[]string{"test", "--source", src + "/missing"}, "--source"},
		{[]string{"deploy"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := pavedCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != ExitUsage {
				t.Fatalf("err = %v (exit %d), want exit 2 naming %q", err, ExitCode(err), tc.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{&UsageError{Err: errors.New("x")}, ExitUsage},
		{fmt.Errorf("wrapped: %w", &pipelines.ConfigError{Field: "f"}), ExitUsage},
		{&runner.StepError{Step: "test", Err: errors.New("red")}, ExitFailed},
		{errors.Join(&runner.StepError{Step: "build", Err: context.Canceled}), ExitInterrupted},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
