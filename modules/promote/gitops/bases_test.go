package gitops

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// gitopsRepo is a GitOps repository as services lay them out: a base
// whose workloads name the image app (a Deployment with an init
// container and a sidecar, a CronJob, a StatefulSet pinned by digest), a
// component adding a debug sidecar, and a production overlay with no
// images: list.
var gitopsRepo = map[string]string{
	"base/kustomization.yaml": `resources:
  - deployment.yaml
  - cronjob.yaml
  - statefulset.yaml
  - crd.yaml
`,
	"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      initContainers:
        - name: migrate
          image: app:v1
          args: [migrate]
      containers:
        - name: api
          image: app:v1
        - name: proxy
          image: nginx:1.27
`,
	"base/cronjob.yaml": `apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: app:v1
              args: [report]
`,
	"base/statefulset.yaml": `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: queue
spec:
  serviceName: queue
  selector:
    matchLabels: {app: queue}
  template:
    metadata:
      labels: {app: queue}
    spec:
      containers:
        - name: queue
          image: app@` + oldDigest + `
`,
	// A CRD's schema talks about containers; kustomize does not touch it.
	"base/crd.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: jobs.acme.dev
spec:
  group: acme.dev
  names: {kind: Job, plural: jobs}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-example:
            containers:
              - image: example/not-an-image
`,
	"overlays/production/kustomization.yaml": realOverlayFor("../../base"),
	"overlays/production/pdb.yaml": `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: api}
`,
	"overlays/production/replicas.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
`,
}

// realOverlayFor is realOverlay with its base at base.
func realOverlayFor(base string) string {
	return strings.Replace(realOverlay, "../../base", base, 1)
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for n, c := range files {
		m[n] = &fstest.MapFile{Data: []byte(c)}
	}
	return m
}

func TestBaseImages(t *testing.T) {
	files := map[string]string{}
	for k, v := range gitopsRepo {
		files[k] = v
	}
	// A staging overlay renames nginx in its own images: list, adds a
	// component and a remote base: the renaming applies to what the
	// overlay over it sees, the component's images join, the remote base
	// is listed as unread.
	files["overlays/staging/kustomization.yaml"] = `resources:
  - ../../base
  - https://github.com/acme/shared//monitoring?ref=v1
components:
  - ../../components/debug
images:
  - name: nginx
    newName: mirror.acme.dev/nginx
    newTag: "1.27.1"
`
	files["components/debug/kustomization.yaml"] = `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - debug.yaml
`
	files["components/debug/debug.yaml"] = `apiVersion: v1
kind: Pod
metadata: {name: debug}
spec:
  containers: [{name: sh, image: busybox}]
`
	files["overlays/canary/kustomization.yaml"] = "resources:\n  - ../staging\n"

	for _, tt := range []struct {
		dir    string
		want   []BaseImage
		unread []string
	}{
		{"overlays/production", []BaseImage{
			{Name: "app", Refs: []string{"app:v1", "app@" + oldDigest}},
			{Name: "nginx", Refs: []string{"nginx:1.27"}},
		}, nil},
		// The overlay's own images: list is not applied: it is what the
		// bump edits.
		{"overlays/staging", []BaseImage{
			{Name: "app", Refs: []string{"app:v1", "app@" + oldDigest}},
			{Name: "busybox", Refs: []string{"busybox"}},
			{Name: "nginx", Refs: []string{"nginx:1.27"}},
		}, []string{"https://github.com/acme/shared//monitoring?ref=v1"}},
		// Over staging, staging's images: list is applied.
		{"overlays/canary", []BaseImage{
			{Name: "app", Refs: []string{"app:v1", "app@" + oldDigest}},
			{Name: "busybox", Refs: []string{"busybox"}},
			{Name: "mirror.acme.dev/nginx", Refs: []string{"mirror.acme.dev/nginx:1.27.1"}},
		}, []string{"https://github.com/acme/shared//monitoring?ref=v1"}},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			got, unread, err := BaseImages(mapFS(files), tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(unread, tt.unread) {
				t.Errorf("images %+v unread %q\nwant %+v unread %q", got, unread, tt.want, tt.unread)
			}
		})
	}
}

func TestBaseImagesErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no kustomization", map[string]string{"o/x.yaml": "a: b\n"}, "no kustomization file"},
		{"cycle", map[string]string{"o/kustomization.yaml": "resources: [../p]\n", "p/kustomization.yaml": "resources: [../o]\n"}, "includes itself"},
		{"bad manifest", map[string]string{"o/kustomization.yaml": "resources: [m.yaml]\n", "o/m.yaml": "a: [\n"}, "o/m.yaml"},
		{"bad kustomization", map[string]string{"o/kustomization.yaml": "resources: {a: b}\n"}, "o/kustomization.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := BaseImages(mapFS(tt.files), "o")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestBaseImageName(t *testing.T) {
	base := func(images ...string) map[string]string {
		var b strings.Builder
		for i, img := range images {
			if i > 0 {
				b.WriteString("---\n")
			}
			b.WriteString("kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: " + img + "\n")
		}
		return map[string]string{
			"base/kustomization.yaml": "resources: [w.yaml]\n", "base/w.yaml": b.String(),
			"o/kustomization.yaml": "resources: [../base]\n",
		}
	}
	withRemote := func(m map[string]string) map[string]string {
		m["o/kustomization.yaml"] = "resources: [../base, github.com/acme/x]\n"
		return m
	}
	for _, tt := range []struct {
		name    string
		files   map[string]string
		overlay string // default the one in files
		given   string
		want    string
		refs    []string
		errs    []string // substrings of an ImageNameError
	}{
		{name: "one image", files: base("app:v1"), want: "app", refs: []string{"app:v1"}},
		{name: "the repository among several", files: base("nginx", "ghcr.io/acme/api:v2"), want: "ghcr.io/acme/api", refs: []string{"ghcr.io/acme/api:v2"}},
		{name: "the last path element among several", files: base("nginx", "acme/api:v2"), want: "acme/api", refs: []string{"acme/api:v2"}},
		{name: "several", files: base("nginx", "app:v1"), errs: []string{"several images", "app, nginx", "name the image"}},
		{name: "none", files: base(), errs: []string{"no workload"}},
		{name: "the other image has an entry", files: base("nginx", "app:v1"), overlay: "resources: [../base]\nimages:\n- name: nginx\n  newTag: '1'\n", want: "app", refs: []string{"app:v1"}},
		{name: "given and run", files: base("nginx", "app:v1"), given: "app", want: "app", refs: []string{"app:v1"}},
		{name: "given, not run", files: base("nginx", "app:v1"), given: "apps", errs: []string{"runs image apps", "would change nothing", "app, nginx"}},
		{name: "given, bases not all read", files: withRemote(base("app:v1")), given: "other", want: "other"},
		{name: "one image, bases not all read", files: withRemote(base("app:v1")), errs: []string{"could not all be read", "not read: github.com/acme/x"}},
		{name: "the repository, bases not all read", files: withRemote(base("ghcr.io/acme/api")), want: "ghcr.io/acme/api", refs: []string{"ghcr.io/acme/api"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.overlay != "" {
				tt.files["o/kustomization.yaml"] = tt.overlay
			}
			got, refs, err := baseImageName(mapFS(tt.files), "o/kustomization.yaml", []byte(tt.files["o/kustomization.yaml"]), tt.given, api)
			if tt.errs != nil {
				var ne *ImageNameError
				if !errors.As(err, &ne) {
					t.Fatalf("got %q, %v; want an ImageNameError", got, err)
				}
				for _, w := range tt.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tt.want || !reflect.DeepEqual(refs, tt.refs) {
				t.Errorf("got %q %q, %v; want %q %q", got, refs, err, tt.want, tt.refs)
			}
		})
	}
}

// TestCommitFS reads a commit's tree as a file system, as the bump reads
// the bases: fstest checks it behaves as fs.FS should.
func TestCommitFS(t *testing.T) {
	isolate(t)
	dir, commit := newRepo(t, gitopsRepo)
	// Work-tree changes are not what the commit holds.
	write(t, dir+"/base/extra.yaml", "kind: Pod\n")
	fsys, err := gitCmd{dir: dir}.commitFS(context.Background(), commit)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "base/deployment.yaml", "overlays/production/kustomization.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Open("base/extra.yaml"); err == nil {
		t.Error("a file that is not committed opened")
	}
}
