package hostci

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// repoRoot is the repository's root, two levels above this package.
const repoRoot = "../.."

// The workflows the GitHub front door ships, relative to the root.
var workflowFiles = []string{
	".github/workflows/go-service.yml",
	".github/workflows/action.yml",
	"examples/go-service/.github/workflows/pull-request.yml",
	"examples/go-service/.github/workflows/main.yml",
}

// Where the workflows name paved's action and reusable workflow remotely.
const (
	remoteWorkflow = "pavedhq/paved/.github/workflows/go-service.yml@main"
	remoteAction   = "pavedhq/paved@main"
)

// shellcheck is the shellcheck actionlint runs on run: scripts. In CI it
// must be there (.ci/run installs it).
func shellcheck(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("shellcheck")
	if err != nil {
		ci.Unavailable(t, "shellcheck is not installed (apt-get install shellcheck; .ci/run installs it)")
	}
	return p
}

func lint(t *testing.T, root string, files []string, shellcheck string) {
	t.Helper()
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: shellcheck, WorkingDir: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		errs, err := l.LintFile(filepath.Join(root, f), nil)
		if err != nil {
			t.Fatalf("actionlint %s: %v", f, err)
		}
		for _, e := range errs {
			t.Errorf("%s:%d:%d: %s [%s]", f, e.Line, e.Column, e.Message, e.Kind)
		}
	}
}

// TestWorkflowsPassActionlint lints the workflows as they are, and again
// in a copy of the repository where they name the action and the reusable
// workflow by path: actionlint then checks every with: against the
// action's and the workflow's inputs, and every outputs.X they read.
func TestWorkflowsPassActionlint(t *testing.T) {
	sc := shellcheck(t)
	t.Run("as shipped", func(t *testing.T) {
		abs, err := filepath.Abs(repoRoot)
		if err != nil {
			t.Fatal(err)
		}
		lint(t, abs, workflowFiles, sc)
	})
	t.Run("resolved locally", func(t *testing.T) {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(repoRoot, "action.yml"), filepath.Join(root, "action.yml"), nil)
		var files []string
		for _, f := range workflowFiles {
			dst := filepath.Join(".github", "workflows", strings.ReplaceAll(f, "/", "_"))
			n := copyFile(t, filepath.Join(repoRoot, f), filepath.Join(root, dst), strings.NewReplacer(
				remoteWorkflow, "./.github/workflows/go-service.yml", remoteAction, "./"))
			if f != ".github/workflows/action.yml" && n == 0 {
				t.Errorf("%s names neither %s nor %s", f, remoteWorkflow, remoteAction)
			}
			files = append(files, dst)
		}
		// The README's copy-paste example, a whole workflow.
		copyFile(t, readmeWorkflow(t), filepath.Join(root, ".github/workflows/readme.yml"), strings.NewReplacer(
			remoteWorkflow, "./.github/workflows/go-service.yml"))
		files = append(files, ".github/workflows/readme.yml")
		// The reusable workflow is found by its own name.
		copyFile(t, filepath.Join(repoRoot, ".github/workflows/go-service.yml"), filepath.Join(root, ".github/workflows/go-service.yml"),
			strings.NewReplacer(remoteAction, "./"))
		lint(t, root, files, sc)
	})
}

// readmeWorkflow writes the first YAML block of the README's GitHub
// Actions section, the example a team copies, to a file.
func readmeWorkflow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## GitHub Actions\n")
	if !ok {
		t.Fatal("README.md has no GitHub Actions section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	if !ok {
		t.Fatal("the GitHub Actions section has no yaml block")
	}
	block, _, _ = strings.Cut(block, "```")
	if !strings.Contains(block, remoteWorkflow) {
		t.Fatalf("the README's workflow does not use %s:\n%s", remoteWorkflow, block)
	}
	p := filepath.Join(t.TempDir(), "readme.yml")
	if err := os.WriteFile(p, []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyFile copies src to dst through r and returns how many of r's
// strings it replaced.
func copyFile(t *testing.T, src, dst string, r *strings.Replacer) int {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	out := s
	if r != nil {
		out = r.Replace(s)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out == s {
		return 0
	}
	return 1
}

// actionFile is action.yml as far as these tests read it.
type actionFile struct {
	Inputs map[string]struct {
		Description string `yaml:"description"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string      `yaml:"using"`
		Steps []yaml.Node `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// TestActionStepsPassActionlint lints the composite action's steps:
// actionlint checks an action's metadata only where a workflow uses it, so
// the steps are linted as the steps of a job whose workflow_call inputs are
// the action's (their expressions, the actions they use, and each run:
// script with shellcheck).
func TestActionStepsPassActionlint(t *testing.T) {
	sc := shellcheck(t)
	a := readAction(t)
	if a.Runs.Using != "composite" || len(a.Runs.Steps) == 0 {
		t.Fatalf("action.yml runs %q with %d steps, want a composite action", a.Runs.Using, len(a.Runs.Steps))
	}
	inputs := map[string]any{}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		inputs[name] = map[string]any{"type": "string", "default": in.Default}
	}
	wf := map[string]any{
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"action": map[string]any{"runs-on": "ubuntu-latest", "steps": a.Runs.Steps}},
	}
	b, err := yaml.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, ".git"), 0o755)
	p := filepath.Join(root, ".github", "workflows", "action-steps.yml")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{Shellcheck: sc, WorkingDir: root})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("action.yml's steps: %s [%s]", e.Message, e.Kind)
	}
	if t.Failed() {
		t.Logf("as linted:\n%s", b)
	}
}

// TestActionOutputsArePavedOutputs: the action's outputs are the ones paved
// writes to $GITHUB_OUTPUT, each read from the step that runs paved.
func TestActionOutputsArePavedOutputs(t *testing.T) {
	a := readAction(t)
	var got []string
	for name, o := range a.Outputs {
		got = append(got, name)
		if o.Value != "${{ steps.run.outputs."+name+" }}" {
			t.Errorf("output %s = %q, want paved's own output", name, o.Value)
		}
	}
	slices.Sort(got)
	want := []string{OutputDigest, OutputImage, OutputReport, OutputStatus}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("action.yml outputs %v, paved writes %v", got, want)
	}
}
