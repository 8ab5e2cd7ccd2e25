package tekton

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"sigs.k8s.io/yaml"
)

// committed reads a generated file as committed.
func committed(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(p))
	if err != nil {
		t.Fatalf("%v (run go generate ./tekton)", err)
	}
	return b
}

// mustParse unmarshals YAML strictly: an unknown or misspelt field fails.
func mustParse[T any](t *testing.T, p string) *T {
	t.Helper()
	var obj T
	if err := yaml.UnmarshalStrict(committed(t, p), &obj); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return &obj
}

// committedTasks are the committed Tasks, one per verb.
func committedTasks(t *testing.T) []*v1.Task {
	t.Helper()
	var out []*v1.Task
	for _, v := range verbs {
		out = append(out, mustParse[v1.Task](t, TaskPath(taskName(v.command))))
	}
	return out
}

func TestGeneratedMatchesCommitted(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	existing, err := Existing(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range existing {
		if _, ok := files[p]; !ok {
			t.Errorf("%s is not generated any more: run go generate ./tekton", p)
		}
	}
	for p, want := range files {
		got, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			t.Errorf("%v: run go generate ./tekton", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output: run go generate ./tekton\n%s", p, cmp.Diff(string(want), string(got)))
		}
	}
}

func TestTasksValidate(t *testing.T) {
	ctx := context.Background()
	for _, task := range committedTasks(t) {
		t.Run(task.Name, func(t *testing.T) {
			if task.APIVersion != "tekton.dev/v1" || task.Kind != "Task" {
				t.Errorf("apiVersion %q kind %q, want tekton.dev/v1 Task", task.APIVersion, task.Kind)
			}
			task.SetDefaults(ctx)
			if err := task.Validate(ctx); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			catalogConventions(t, task.ObjectMeta.Labels, task.ObjectMeta.Annotations)
			for _, p := range task.Spec.Params {
				if p.Description == "" {
					t.Errorf("param %s has no description", p.Name)
				}
			}
			if task.Spec.Workspaces[0].Name != WorkspaceSource || task.Spec.Workspaces[0].Optional {
				t.Errorf("first workspace %+v, want the required source", task.Spec.Workspaces[0])
			}
			for _, w := range task.Spec.Workspaces[1:] {
				if !w.Optional {
					t.Errorf("workspace %s is required; only source is", w.Name)
				}
			}
		})
	}
}

func catalogConventions(t *testing.T, labels, annotations map[string]string) {
	t.Helper()
	if labels["app.kubernetes.io/version"] != Version {
		t.Errorf("label app.kubernetes.io/version = %q, want %q", labels["app.kubernetes.io/version"], Version)
	}
	for _, a := range []string{"tekton.dev/pipelines.minVersion", "tekton.dev/categories", "tekton.dev/tags", "tekton.dev/displayName", "tekton.dev/platforms"} {
		if annotations[a] == "" {
			t.Errorf("no annotation %s", a)
		}
	}
}

// TestImageResults: the Tasks that publish declare the string results
// Tekton Chains reads an image from.
func TestImageResults(t *testing.T) {
	for _, task := range committedTasks(t) {
		var names []string
		for _, r := range task.Spec.Results {
			names = append(names, r.Name)
			if r.Type != v1.ResultsTypeString {
				t.Errorf("%s: result %s has type %q, want string", task.Name, r.Name, r.Type)
			}
		}
		publishes := task.Name == "paved-build" || task.Name == "paved-run"
		if has := slices.Contains(names, ResultImageURL) && slices.Contains(names, ResultImageDigest); has != publishes {
			t.Errorf("%s: results %v; IMAGE_URL and IMAGE_DIGEST wanted: %v", task.Name, names, publishes)
		}
	}
}

func TestPipelineValidates(t *testing.T) {
	ctx := context.Background()
	pl := mustParse[v1.Pipeline](t, PipelinePath(goServicePipeline))
	pl.SetDefaults(ctx)
	if err := pl.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	catalogConventions(t, pl.Labels, pl.Annotations)

	// The params the Pipeline passes to paved-run are paved-run's own.
	run := mustParse[v1.Task](t, TaskPath(taskName("run")))
	specs := map[string]v1.ParamSpec{}
	for _, ps := range run.Spec.Params {
		specs[ps.Name] = ps
	}
	for _, ps := range pl.Spec.Params {
		if want, ok := specs[ps.Name]; ok {
			if diff := cmp.Diff(want, ps); diff != "" {
				t.Errorf("Pipeline param %s differs from paved-run's (-task +pipeline):\n%s", ps.Name, diff)
			}
		}
	}
	// Each paved Task gets only params and workspaces it declares and all
	// those it requires: what the controller checks on a cluster.
	for _, pt := range pl.Spec.Tasks {
		if pt.TaskRef == nil || !strings.HasPrefix(pt.TaskRef.Name, "paved-") {
			continue
		}
		task := mustParse[v1.Task](t, TaskPath(pt.TaskRef.Name))
		declared := map[string]bool{}
		for _, ps := range task.Spec.Params {
			declared[ps.Name] = ps.Default == nil
		}
		for _, p := range pt.Params {
			if _, ok := declared[p.Name]; !ok {
				t.Errorf("%s: param %s is not one of %s's", pt.Name, p.Name, task.Name)
			}
			delete(declared, p.Name)
		}
		for n, required := range declared {
			if required {
				t.Errorf("%s: %s's required param %s is not given", pt.Name, task.Name, n)
			}
		}
		wss := map[string]bool{}
		for _, w := range task.Spec.Workspaces {
			wss[w.Name] = !w.Optional
		}
		for _, w := range pt.Workspaces {
			if _, ok := wss[w.Name]; !ok {
				t.Errorf("%s: workspace %s is not one of %s's", pt.Name, w.Name, task.Name)
			}
			delete(wss, w.Name)
		}
		for n, required := range wss {
			if required {
				t.Errorf("%s: %s's required workspace %s is not bound", pt.Name, task.Name, n)
			}
		}
	}
	var results []string
	for _, r := range pl.Spec.Results {
		results = append(results, r.Name)
	}
	if !slices.Equal(results, []string{ResultImageURL, ResultImageDigest}) {
		t.Errorf("Pipeline results %v, want IMAGE_URL and IMAGE_DIGEST", results)
	}
}

func TestExamplePipelineRunValidates(t *testing.T) {
	ctx := context.Background()
	pr := mustParse[v1.PipelineRun](t, ExamplePath)
	if pr.Name != "" || pr.GenerateName == "" {
		t.Fatalf("name %q generateName %q: kubectl create runs the example again only with generateName", pr.Name, pr.GenerateName)
	}
	// The API server names the run before Tekton's webhook validates it.
	pr.Name = pr.GenerateName + "x7k2p"
	pr.SetDefaults(ctx)
	if err := pr.Validate(ctx); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	pl := mustParse[v1.Pipeline](t, PipelinePath(goServicePipeline))
	if pr.Spec.PipelineRef.Name != pl.Name {
		t.Errorf("the example runs %q, want %q", pr.Spec.PipelineRef.Name, pl.Name)
	}
	// Every param and workspace it gives is the Pipeline's, every required
	// one is given: what the controller would check on a cluster.
	declared := map[string]bool{}
	for _, ps := range pl.Spec.Params {
		declared[ps.Name] = ps.Default == nil
	}
	for _, p := range pr.Spec.Params {
		if _, ok := declared[p.Name]; !ok {
			t.Errorf("the example gives param %s, which the Pipeline does not declare", p.Name)
		}
		delete(declared, p.Name)
	}
	for n, required := range declared {
		if required {
			t.Errorf("the example does not give the required param %s", n)
		}
	}
	wss := map[string]bool{}
	for _, w := range pl.Spec.Workspaces {
		wss[w.Name] = !w.Optional
	}
	for _, w := range pr.Spec.Workspaces {
		if _, ok := wss[w.Name]; !ok {
			t.Errorf("the example binds workspace %s, which the Pipeline does not declare", w.Name)
		}
		delete(wss, w.Name)
	}
	for n, required := range wss {
		if required {
			t.Errorf("the example does not bind the required workspace %s", n)
		}
	}
}

// taskOnly are the params a Task adds to its command's flags.
var taskOnly = []string{ParamPavedImage, ParamExtraArgs, ParamSigningSecret, ParamGitHubSecret, ParamCommit, ParamRepoURL, ParamSourceDateEpoch, ParamEvents, ParamEventsSecret}

var flagArg = regexp.MustCompile(`^--([a-z0-9-]+)=`)

// TestTaskParamsAreFlags is the drift guard, read from the committed YAML
// and paved's commands: each param is a flag of the Task's command (or one
// of the few a Task adds) with the flag's usage and default, each flag is
// a param, a workspace or named in EXTRA_ARGS, and each --flag the step
// passes exists.
func TestTaskParamsAreFlags(t *testing.T) {
	root := Root()
	for _, task := range committedTasks(t) {
		t.Run(task.Name, func(t *testing.T) {
			c, err := command(root, strings.TrimPrefix(task.Name, "paved-"))
			if err != nil {
				t.Fatal(err)
			}
			params := map[string]v1.ParamSpec{}
			for _, ps := range task.Spec.Params {
				params[ps.Name] = ps
			}
			step := task.Spec.Steps[0]
			args := strings.Join(step.Args, "\n")
			var extraDesc string
			if ps, ok := params[ParamExtraArgs]; ok {
				extraDesc = ps.Description
			}
			c.Flags().VisitAll(func(f *pflag.Flag) {
				ps, isParam := params[f.Name]
				switch {
				case isParam:
					if !strings.HasPrefix(ps.Description, f.Usage) {
						t.Errorf("param %s: description %q does not start with the flag's usage %q", f.Name, ps.Description, f.Usage)
					}
					if ps.Default == nil || ps.Default.StringVal != ParamDefault(f) {
						t.Errorf("param %s: default %v, want the flag's %q", f.Name, ps.Default, ParamDefault(f))
					}
					if !strings.Contains(args, "--"+f.Name+"=$(params."+f.Name+")") {
						t.Errorf("param %s is not passed as --%s", f.Name, f.Name)
					}
				case strings.Contains(args, "--"+f.Name+"=$(workspaces."):
				case strings.Contains(extraDesc, "--"+f.Name+" "):
				default:
					t.Errorf("flag --%s is neither a param, a workspace nor named in EXTRA_ARGS", f.Name)
				}
			})
			for name := range params {
				if c.Flags().Lookup(name) == nil && !slices.Contains(taskOnly, name) && !positionalParam(step.Args, name) {
					t.Errorf("param %s is not a flag of paved %s", name, c.Name())
				}
			}
			for _, a := range step.Args {
				if m := flagArg.FindStringSubmatch(a); m != nil && c.Flags().Lookup(m[1]) == nil {
					t.Errorf("the step passes --%s, which paved %s does not have", m[1], c.Name())
				}
			}
		})
	}
}

// positionalParam: name is given after "--".
func positionalParam(args []string, name string) bool {
	i := slices.Index(args, "--")
	return i >= 0 && slices.Contains(args[i+1:], "$(params."+name+")")
}

// TestDefaultsAreFlagDefaults: a TaskRun that sets no param and binds no
// optional workspace runs paved with the values paved has with no flags.
func TestDefaultsAreFlagDefaults(t *testing.T) {
	for _, task := range committedTasks(t) {
		t.Run(task.Name, func(t *testing.T) {
			repl := map[string]string{}
			for _, ps := range task.Spec.Params {
				if ps.Type == v1.ParamTypeString && ps.Default != nil {
					repl["$(params."+ps.Name+")"] = ps.Default.StringVal
				}
			}
			for _, w := range task.Spec.Workspaces {
				if w.Optional {
					repl["$(workspaces."+w.Name+".path)"] = ""
				}
			}
			step := task.Spec.Steps[0]
			var args []string
			for _, a := range step.Args {
				if a == "$(params."+ParamExtraArgs+"[*])" || a == "--" {
					continue
				}
				for k, v := range repl {
					a = strings.ReplaceAll(a, k, v)
				}
				if strings.Contains(a, "$(") {
					continue // a positional without a default
				}
				args = append(args, a)
			}
			name := args[0]
			withTask, err := command(Root(), name)
			if err != nil {
				t.Fatal(err)
			}
			if err := withTask.ParseFlags(args[1:]); err != nil {
				t.Fatalf("paved %s %v: %v", name, args[1:], err)
			}
			bare, _ := command(Root(), name)
			if err := bare.ParseFlags(nil); err != nil {
				t.Fatal(err)
			}
			bare.Flags().VisitAll(func(f *pflag.Flag) {
				got := withTask.Flags().Lookup(f.Name).Value.String()
				if got != f.Value.String() {
					t.Errorf("--%s is %q in the Task by default, %q with no flag", f.Name, got, f.Value.String())
				}
			})
		})
	}
}

// TestSecretsNeverParams: passwords and tokens reach a step only from a
// Secret, never through a param or a literal value.
func TestSecretsNeverParams(t *testing.T) {
	secret := regexp.MustCompile(`(?i)password|token|passphrase`)
	for _, task := range committedTasks(t) {
		secretNames := map[string]bool{}
		for _, e := range task.Spec.Steps[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				secretNames[e.ValueFrom.SecretKeyRef.Name] = true
			}
		}
		for _, ps := range task.Spec.Params {
			// A Secret's name may say what it holds.
			if secret.MatchString(ps.Name) && !secretNames["$(params."+ps.Name+")"] {
				t.Errorf("%s: param %s looks like a secret", task.Name, ps.Name)
			}
			if secretNames["$(params."+ps.Name+")"] && slices.ContainsFunc(task.Spec.Steps[0].Args, func(a string) bool { return strings.Contains(a, "$(params."+ps.Name+")") }) {
				t.Errorf("%s: the Secret name %s reaches paved's arguments", task.Name, ps.Name)
			}
		}
		for _, e := range task.Spec.Steps[0].Env {
			if secret.MatchString(e.Name) && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
				t.Errorf("%s: %s is not from a Secret", task.Name, e.Name)
			}
		}
	}
}

// TestUnclassifiedFlagFails: a flag added to a command without a decision
// in the table stops the generator, so it cannot drift silently.
func TestUnclassifiedFlagFails(t *testing.T) {
	root := Root()
	c, err := command(root, "test")
	if err != nil {
		t.Fatal(err)
	}
	c.Flags().Bool("shiny", false, "a new flag")
	if _, err := Tasks(root); err == nil || !strings.Contains(err.Error(), "--shiny") {
		t.Fatalf("Tasks with an unclassified flag: err = %v, want one naming --shiny", err)
	}

	// A row naming a flag the command no longer has fails too.
	saved := verbs
	defer func() { verbs = saved }()
	v := saved[0]
	v.flags = map[string]flagMapping{"gone": p()}
	for k, m := range saved[0].flags {
		v.flags[k] = m
	}
	verbs = []verb{v}
	if _, err := Tasks(Root()); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("Tasks with a stale row: err = %v, want one naming gone", err)
	}
	verbs = []verb{{command: "no-such-verb"}}
	if _, err := Tasks(Root()); err == nil {
		t.Fatal("Tasks made a Task for a verb paved does not have")
	}
}
