package tekton

import (
	"bytes"
	"context"
	"strings"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"

	"github.com/pavedhq/paved/internal/commands"
	"github.com/pavedhq/paved/internal/testtools/testfs"
	_ "github.com/pavedhq/paved/pipelines/goservice" // registers go-test and go-build, as cmd/paved does
)

// stepArgs are a Task's step arguments as Tekton substitutes them: params
// at their defaults unless given, workspaces at the paths given (unbound
// optional ones are ""), EXTRA_ARGS as given.
func stepArgs(t *testing.T, task *v1.Task, params map[string]string, workspaces map[string]string, extra []string) []string {
	t.Helper()
	repl := map[string]string{}
	for _, ps := range task.Spec.Params {
		if ps.Default != nil && ps.Type == v1.ParamTypeString {
			repl["$(params."+ps.Name+")"] = ps.Default.StringVal
		}
	}
	for k, v := range params {
		repl["$(params."+k+")"] = v
	}
	for _, w := range task.Spec.Workspaces {
		repl["$(workspaces."+w.Name+".path)"] = workspaces[w.Name]
	}
	var out []string
	for _, a := range task.Spec.Steps[0].Args {
		if a == "$(params."+ParamExtraArgs+"[*])" {
			out = append(out, extra...)
			continue
		}
		for k, v := range repl {
			a = strings.ReplaceAll(a, k, v)
		}
		if strings.Contains(a, "$(") {
			t.Fatalf("%s: %q is left unsubstituted", task.Name, a)
		}
		out = append(out, a)
	}
	return out
}

// TestTaskStepsRunPaved runs the paved-test and paved-build Tasks' steps
// as a TaskRun would, with paved's real commands on a copy of
// examples/go-service as the source workspace: the arguments the
// generator writes are ones paved accepts and runs with. The build
// publishes to an OCI layout in the workspace (no registry is needed to
// check the arguments).
func TestTaskStepsRunPaved(t *testing.T) {
	for _, tc := range []struct {
		task  string
		extra []string
	}{
		// The Task runs paved's image, which holds paved-worker for the lint
		// and SAST step; paved runs in-process here, without the worker.
		{task: "paved-test", extra: []string{"--coverage=10", "--lint=false", "--sast=false"}},
		{task: "paved-build", extra: []string{"--platform=linux/amd64"}},
	} {
		t.Run(tc.task, func(t *testing.T) {
			task := mustParse[v1.Task](t, TaskPath(tc.task))
			src := testfs.CopyTree(t, "../examples/go-service", t.TempDir())
			t.Chdir(src) // the step's workingDir: the source workspace
			args := stepArgs(t, task, nil, map[string]string{WorkspaceSource: src, WorkspaceCache: t.TempDir()}, tc.extra)
			if args[0] != strings.TrimPrefix(tc.task, "paved-") {
				t.Fatalf("the step runs paved %s", args[0])
			}
			var stdout, stderr bytes.Buffer
			root := commands.New("test", &stdout, &stderr)
			root.SetArgs(args)
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("paved %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			if tc.task == "paved-build" {
				out := strings.TrimSpace(stdout.String())
				if !strings.HasPrefix(out, "oci:") || !strings.Contains(out, "@sha256:") {
					t.Errorf("paved build printed %q, want the published oci: reference", out)
				}
			}
		})
	}
}
