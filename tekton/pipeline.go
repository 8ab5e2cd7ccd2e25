package tekton

import (
	"fmt"

	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/selection"
)

// gitClone is the git-clone Task the Pipeline fetches the source with:
// tektoncd-catalog/git-clone v1.7.0, pinned by commit through the git
// resolver, so the Pipeline needs nothing installed but paved's Tasks.
var gitClone = v1.ResolverRef{
	Resolver: "git",
	Params: v1.Params{
		{Name: "url", Value: *v1.NewStructuredValues("https://github.com/tektoncd-catalog/git-clone.git")},
		{Name: "revision", Value: *v1.NewStructuredValues("c166e56217829ecc2062059030a8a0fcc0e1a88f")},
		{Name: "pathInRepo", Value: *v1.NewStructuredValues("task/git-clone/git-clone.yaml")},
	},
}

// The go-service Pipeline's own names.
const (
	goServicePipeline = "paved-go-service"
	taskFetch         = "fetch-source"
	taskGolden        = "go-service"
	taskPromote       = "promote"
)

// runParams are the paved-run params the Pipeline passes through under the
// same name, description and default.
var runParams = []string{ParamPavedImage, "source", "image", "platform", "tag", "base", "key", "keyless", "fulcio-url", "rekor-url", "trusted-root", ParamSigningSecret}

// GoServicePipeline is the go-service golden path as a Pipeline: clone,
// then paved run go-service (test, build, SBOMs, scan, publish, sign,
// attest in one TaskRun, with paved's step cache and ordering), then,
// when promote-to is set, paved promote. Its params are the paved-run
// Task's, taken from the Task, so they cannot drift from it.
func GoServicePipeline(run *v1.Task) (*v1.Pipeline, error) {
	specs := map[string]v1.ParamSpec{}
	for _, ps := range run.Spec.Params {
		specs[ps.Name] = ps
	}
	params := v1.ParamSpecs{
		{Name: "git-url", Type: v1.ParamTypeString, Description: "The service's git repository to clone."},
		{Name: "git-revision", Type: v1.ParamTypeString, Description: "The branch, tag or commit to clone (default: the remote's default branch).", Default: v1.NewStructuredValues("")},
	}
	var runArgs v1.Params
	for _, n := range runParams {
		ps, ok := specs[n]
		if !ok {
			return nil, fmt.Errorf("tekton: the %s Task has no param %s for the %s Pipeline", run.Name, n, goServicePipeline)
		}
		params = append(params, ps)
		runArgs = append(runArgs, v1.Param{Name: n, Value: *v1.NewStructuredValues("$(params." + n + ")")})
	}
	runArgs = append(v1.Params{{Name: "PIPELINE", Value: *v1.NewStructuredValues("go-service")}}, runArgs...)
	fetched := func(result string) v1.ParamValue {
		return *v1.NewStructuredValues(fmt.Sprintf("$(tasks.%s.results.%s)", taskFetch, result))
	}
	runArgs = append(runArgs,
		v1.Param{Name: ParamCommit, Value: fetched("commit")},
		v1.Param{Name: ParamRepoURL, Value: fetched("url")},
		v1.Param{Name: ParamSourceDateEpoch, Value: fetched("committer-date")},
	)
	params = append(params,
		v1.ParamSpec{Name: "promote-to", Type: v1.ParamTypeString, Description: "The repository to promote the signed image to with paved promote; empty skips promotion.", Default: v1.NewStructuredValues("")},
		v1.ParamSpec{Name: "promote-args", Type: v1.ParamTypeArray, Description: "Further arguments to paved promote, such as --key=/workspace/signing-keys/cosign.pub or --tag=v1.2.3.", Default: &v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{}}},
	)

	optional := func(name string) v1.PipelineWorkspaceDeclaration {
		return v1.PipelineWorkspaceDeclaration{Name: name, Description: workspaceDescriptions[name], Optional: true}
	}
	bind := func(names ...string) []v1.WorkspacePipelineTaskBinding {
		var out []v1.WorkspacePipelineTaskBinding
		for _, n := range names {
			out = append(out, v1.WorkspacePipelineTaskBinding{Name: n, Workspace: n})
		}
		return out
	}
	image := func(result string) string { return fmt.Sprintf("$(tasks.%s.results.%s)", taskGolden, result) }

	return &v1.Pipeline{
		TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Pipeline"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        goServicePipeline,
			Labels:      map[string]string{"app.kubernetes.io/version": Version},
			Annotations: annotations("paved go-service golden path", "Continuous Integration", "build,test,image-build,security,deploy,go,paved"),
		},
		Spec: v1.PipelineSpec{
			Description: "paved's go-service golden path: clone the service, test, build, SBOMs, scan, publish, sign and attest it with paved run go-service, then promote it when promote-to is set. IMAGE_URL and IMAGE_DIGEST name the published image for Tekton Chains.",
			Params:      params,
			Workspaces: []v1.PipelineWorkspaceDeclaration{
				{Name: WorkspaceSource, Description: "Where the service is cloned; the Tasks share it, so bind a volume (a volumeClaimTemplate)."},
				optional(WorkspaceCache), optional(WorkspaceVulnDB), optional(WorkspaceSigningKeys), optional(WorkspaceDockerConfig),
			},
			Tasks: []v1.PipelineTask{
				{
					Name:    taskFetch,
					TaskRef: &v1.TaskRef{ResolverRef: gitClone},
					Params: v1.Params{
						{Name: "url", Value: *v1.NewStructuredValues("$(params.git-url)")},
						{Name: "revision", Value: *v1.NewStructuredValues("$(params.git-revision)")},
					},
					Workspaces: []v1.WorkspacePipelineTaskBinding{{Name: "output", Workspace: WorkspaceSource}},
				},
				{
					Name:       taskGolden,
					TaskRef:    &v1.TaskRef{Name: taskName("run")},
					Params:     runArgs,
					Workspaces: bind(WorkspaceSource, WorkspaceCache, WorkspaceVulnDB, WorkspaceSigningKeys, WorkspaceDockerConfig),
				},
				{
					Name:    taskPromote,
					TaskRef: &v1.TaskRef{Name: taskName("promote")},
					When:    v1.WhenExpressions{{Input: "$(params.promote-to)", Operator: selection.NotIn, Values: []string{""}}},
					Params: v1.Params{
						{Name: ParamPavedImage, Value: *v1.NewStructuredValues("$(params." + ParamPavedImage + ")")},
						{Name: "from", Value: *v1.NewStructuredValues(image(ResultImageURL) + "@" + image(ResultImageDigest))},
						{Name: "to", Value: *v1.NewStructuredValues("$(params.promote-to)")},
						{Name: "source", Value: *v1.NewStructuredValues("$(params.source)")},
						{Name: ParamExtraArgs, Value: v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{"$(params.promote-args[*])"}}},
					},
					Workspaces: bind(WorkspaceSource, WorkspaceVulnDB, WorkspaceSigningKeys, WorkspaceDockerConfig),
				},
			},
			Results: []v1.PipelineResult{
				{Name: ResultImageURL, Type: v1.ResultsTypeString, Description: "The published image's repository (Tekton Chains' type hint).", Value: *v1.NewStructuredValues(image(ResultImageURL))},
				{Name: ResultImageDigest, Type: v1.ResultsTypeString, Description: "The published image's digest.", Value: *v1.NewStructuredValues(image(ResultImageDigest))},
			},
		},
	}, nil
}

// GoServiceRun is a PipelineRun of the go-service Pipeline on
// examples/go-service, signing with a key pair in a Secret.
func GoServiceRun() *v1.PipelineRun {
	fsGroup := int64(65532)
	return &v1.PipelineRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "PipelineRun"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: goServicePipeline + "-"},
		Spec: v1.PipelineRunSpec{
			PipelineRef: &v1.PipelineRef{Name: goServicePipeline},
			Params: v1.Params{
				// The placeholder fails to pull until set to a release's digest.
				{Name: ParamPavedImage, Value: *v1.NewStructuredValues(DefaultPavedImage)},
				{Name: "git-url", Value: *v1.NewStructuredValues("https://github.com/pavedhq/paved.git")},
				{Name: "source", Value: *v1.NewStructuredValues("examples/go-service")},
				{Name: "image", Value: *v1.NewStructuredValues("registry.example.com/payments/go-service")},
				{Name: "key", Value: *v1.NewStructuredValues("/workspace/signing-keys/cosign.key")},
				{Name: "promote-to", Value: *v1.NewStructuredValues("registry.example.com/staging/go-service")},
				{Name: "promote-args", Value: v1.ParamValue{Type: v1.ParamTypeArray, ArrayVal: []string{"--key=/workspace/signing-keys/cosign.pub"}}},
			},
			TaskRunTemplate: v1.PipelineTaskRunTemplate{
				// git-clone and paved run as a non-root user: let it write
				// the volumes.
				PodTemplate: &pod.Template{SecurityContext: &corev1.PodSecurityContext{FSGroup: &fsGroup}},
			},
			Workspaces: []v1.WorkspaceBinding{
				{Name: WorkspaceSource, VolumeClaimTemplate: &corev1.PersistentVolumeClaim{
					Spec: corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
					},
				}},
				{Name: WorkspaceCache, PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "paved-cache"}},
				{Name: WorkspaceSigningKeys, Secret: &corev1.SecretVolumeSource{SecretName: "paved-signing"}},
				{Name: WorkspaceDockerConfig, Secret: &corev1.SecretVolumeSource{
					SecretName: "registry-credentials",
					Items:      []corev1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}},
				}},
			},
		},
	}
}
