package tekton

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// home is where paved, git and the Go toolchain keep their caches and
// configuration in a step: Tekton's per-TaskRun home, where its
// credentials initialisation also writes the ServiceAccount's registry
// and git credentials.
const home = "/tekton/home"

// workspaceOrder is the order Tasks declare their workspaces in.
var workspaceOrder = []string{WorkspaceSource, WorkspaceCache, WorkspaceVulnDB, WorkspaceSigningKeys, WorkspaceDockerConfig, WorkspaceGitOps}

// Tasks returns a Task per verb, built from paved's command tree root
// (internal/commands.New).
func Tasks(root *cobra.Command) ([]*v1.Task, error) {
	var out []*v1.Task
	for _, v := range verbs {
		t, err := newTask(root, v)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// command finds a verb's command in the tree.
func command(root *cobra.Command, name string) (*cobra.Command, error) {
	c, _, err := root.Find([]string{name})
	if err != nil || c == root || c.Name() != name {
		return nil, fmt.Errorf("tekton: paved has no %q command", name)
	}
	return c, nil
}

// flags are a command's own flags in the order it declares them, which
// reads better in a Task than pflag's alphabetical order.
func flags(c *cobra.Command) []*pflag.Flag {
	fs := c.Flags()
	sorted := fs.SortFlags
	fs.SortFlags = false
	defer func() { fs.SortFlags = sorted }()
	var out []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) { out = append(out, f) })
	return out
}

// listFlag is true for flags that take a comma-separated list.
func listFlag(f *pflag.Flag) bool { return strings.HasSuffix(f.Value.Type(), "Slice") }

// ParamDefault is the param default that stands for a flag's default:
// its DefValue, but "" for a list ("--tag=" is an empty list, "--tag=[]"
// is the tag "[]").
func ParamDefault(f *pflag.Flag) string {
	if listFlag(f) {
		return ""
	}
	return f.DefValue
}

// ParamDescription is the description of the param that stands for a
// flag: its usage, then what a Task adds.
func ParamDescription(f *pflag.Flag, note string) string {
	d := f.Usage
	if listFlag(f) {
		d += " (comma-separated)"
	}
	return d + note
}

func newTask(root *cobra.Command, v verb) (*v1.Task, error) {
	c, err := command(root, v.command)
	if err != nil {
		return nil, err
	}
	name := taskName(v.command)
	seen := map[string]bool{}
	var (
		params     v1.ParamSpecs
		args       = []string{v.command}
		extras     []string
		workspaces = map[string]bool{WorkspaceSource: true}
	)
	params = append(params, v1.ParamSpec{
		Name: ParamPavedImage, Type: v1.ParamTypeString,
		Description: "paved's own image, pinned by digest (REPO@sha256:…). The default is a tag that is never published, so an unpinned Task fails to pull.",
		Default:     v1.NewStructuredValues(DefaultPavedImage),
	})
	for _, a := range v.args {
		ps := v1.ParamSpec{Name: a.name, Type: v1.ParamTypeString, Description: a.description}
		if a.def != "" {
			ps.Default = v1.NewStructuredValues(a.def)
		}
		params = append(params, ps)
	}
	for _, f := range flags(c) {
		m, ok := v.flags[f.Name]
		if !ok {
			return nil, fmt.Errorf("tekton: paved %s --%s is not in the %s Task's table (verbs.go): make it a param, a workspace or an EXTRA_ARGS flag", v.command, f.Name, name)
		}
		seen[f.Name] = true
		switch m.kind {
		case param:
			params = append(params, v1.ParamSpec{
				Name: f.Name, Type: v1.ParamTypeString,
				Description: ParamDescription(f, m.note),
				Default:     v1.NewStructuredValues(ParamDefault(f)),
			})
			args = append(args, fmt.Sprintf("--%s=$(params.%s)", f.Name, f.Name))
		case workspace:
			// An unbound optional workspace's path is "", so the flag
			// must read "" as its default.
			if f.DefValue != "" {
				return nil, fmt.Errorf("tekton: paved %s --%s defaults to %q: only a flag whose default is \"\" can take an optional workspace's path", v.command, f.Name, f.DefValue)
			}
			workspaces[m.workspace] = true
			args = append(args, fmt.Sprintf("--%s=$(workspaces.%s.path)", f.Name, m.workspace))
		case extra:
			extras = append(extras, fmt.Sprintf("--%s (%s)", f.Name, m.why))
		}
	}
	var unknown []string
	for f := range v.flags {
		if !seen[f] {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("tekton: the %s Task's table names flags paved %s does not have: %s", name, v.command, strings.Join(unknown, ", "))
	}

	var env []corev1.EnvVar
	env = append(env, corev1.EnvVar{Name: "HOME", Value: home})
	if v.context {
		for _, c := range []struct{ param, env, desc string }{
			{ParamCommit, "PAVED_COMMIT", "The source's commit (git-clone's commit result), for the report and the provenance when the checkout's git cannot say (paved's image has no git)."},
			{ParamRepoURL, "PAVED_REPO", "The source's repository URL (git-clone's url result), for the report and the provenance."},
			{ParamSourceDateEpoch, "SOURCE_DATE_EPOCH", "The commit's time in seconds since 1970 (git-clone's committer-date result): the image's timestamps, for a reproducible digest."},
		} {
			params = append(params, v1.ParamSpec{Name: c.param, Type: v1.ParamTypeString, Description: c.desc + " Empty: paved reads the checkout.", Default: v1.NewStructuredValues("")})
			env = append(env, corev1.EnvVar{Name: c.env, Value: "$(params." + c.param + ")"})
		}
	}
	if v.registry {
		workspaces[WorkspaceDockerConfig] = true
		// "" (unbound) leaves the default, $HOME/.docker.
		env = append(env, corev1.EnvVar{Name: "DOCKER_CONFIG", Value: "$(workspaces." + WorkspaceDockerConfig + ".path)"})
	}
	if v.signs || v.keys {
		workspaces[WorkspaceSigningKeys] = true
	}
	if v.signs {
		params = append(params, v1.ParamSpec{
			Name: ParamSigningSecret, Type: v1.ParamTypeString,
			Description: "The Secret whose cosign.password is the signing key's password (COSIGN_PASSWORD), as cosign generate-key-pair k8s://NAMESPACE/NAME writes it; a missing Secret leaves it unset.",
			Default:     v1.NewStructuredValues("paved-signing"),
		})
		env = append(env, secretEnv("COSIGN_PASSWORD", ParamSigningSecret, "cosign.password"))
	}
	// Every command that emits CDEvents has --events: its Task takes the
	// sinks, and the token from a Secret.
	if c.Flags().Lookup("events") != nil {
		params = append(params,
			v1.ParamSpec{Name: ParamEvents, Type: v1.ParamTypeString,
				Description: "CDEvents sinks, comma-separated, on top of paved.yaml's events: (PAVED_EVENTS), such as the DORA collector's https URL.",
				Default:     v1.NewStructuredValues("")},
			v1.ParamSpec{Name: ParamEventsSecret, Type: v1.ParamTypeString,
				Description: "The Secret whose token is the bearer token paved sends to HTTP events sinks (PAVED_EVENTS_TOKEN); a missing Secret leaves it unset.",
				Default:     v1.NewStructuredValues("paved-events")},
		)
		env = append(env, corev1.EnvVar{Name: "PAVED_EVENTS", Value: "$(params." + ParamEvents + ")"}, secretEnv("PAVED_EVENTS_TOKEN", ParamEventsSecret, "token"))
	}
	if v.github {
		params = append(params, v1.ParamSpec{
			Name: ParamGitHubSecret, Type: v1.ParamTypeString,
			Description: "The Secret whose token is the GitHub token --github-repo opens the pull request with (GITHUB_TOKEN); a missing Secret leaves it unset.",
			Default:     v1.NewStructuredValues("paved-github"),
		})
		env = append(env, secretEnv("GITHUB_TOKEN", ParamGitHubSecret, "token"))
	}
	extraDesc := fmt.Sprintf("Further arguments to paved %s, each a whole argument such as --flag=VALUE.", v.command)
	if len(extras) > 0 {
		extraDesc += " Flags that are not params: " + strings.Join(extras, "; ") + "."
	}
	params = append(params, v1.ParamSpec{
		Name: ParamExtraArgs, Type: v1.ParamTypeArray, Description: extraDesc,
		Default: &v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{}},
	})
	args = append(args, "$(params."+ParamExtraArgs+"[*])")
	if len(v.args) > 0 {
		// A positional value that starts with "-" stays a value.
		args = append(args, "--")
		for _, a := range v.args {
			args = append(args, "$(params."+a.name+")")
		}
	}

	var decls []v1.WorkspaceDeclaration
	for _, w := range workspaceOrder {
		if workspaces[w] {
			decls = append(decls, v1.WorkspaceDeclaration{Name: w, Description: workspaceDescriptions[w], Optional: w != WorkspaceSource})
		}
	}
	var results []v1.TaskResult
	if v.image {
		results = append(results,
			v1.TaskResult{Name: ResultImageURL, Type: v1.ResultsTypeString, Description: "The published image's repository, without a digest; with IMAGE_DIGEST, what Tekton Chains signs and attests."},
			v1.TaskResult{Name: ResultImageDigest, Type: v1.ResultsTypeString, Description: "The published image's digest, sha256:…"},
		)
	}
	if v.report {
		results = append(results, v1.TaskResult{Name: ResultReport, Type: v1.ResultsTypeString,
			Description: "paved's run report (JSON), within Tekton's result size limit; the whole report is .paved/report.json in the source workspace."})
	}

	return &v1.Task{
		TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{"app.kubernetes.io/version": Version},
			Annotations: annotations(v.displayName, v.categories, v.tags),
		},
		Spec: v1.TaskSpec{
			Description: v.description,
			Params:      params,
			Workspaces:  decls,
			Results:     results,
			Steps: []v1.Step{{
				Name:       v.command,
				Image:      "$(params." + ParamPavedImage + ")",
				WorkingDir: "$(workspaces." + WorkspaceSource + ".path)",
				Command:    []string{PavedPath},
				Args:       args,
				Env:        env,
			}},
		},
	}, nil
}

// secretEnv is an environment variable from an optional Secret the param
// names: secrets never travel as params.
func secretEnv(name, secretParam, key string) corev1.EnvVar {
	optional := true
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "$(params." + secretParam + ")"},
		Key:                  key,
		Optional:             &optional,
	}}}
}

// annotations are the Tekton catalog's.
func annotations(displayName, categories, tags string) map[string]string {
	return map[string]string{
		"tekton.dev/pipelines.minVersion": MinPipelinesVersion,
		"tekton.dev/categories":           categories,
		"tekton.dev/tags":                 tags,
		"tekton.dev/displayName":          displayName,
		"tekton.dev/platforms":            Platforms,
	}
}
