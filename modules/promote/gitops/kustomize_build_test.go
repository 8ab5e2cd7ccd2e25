package gitops

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomizeBuild builds the kustomization in dir with kustomize itself
// (as a library; only tests link it) and returns the image of every
// container and init container, by "Kind/name container".
func kustomizeBuild(t *testing.T, dir string) map[string]string {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	images := map[string]string{}
	for _, r := range m.Resources() {
		for _, path := range [][]string{
			{"spec", "template", "spec"},                        // Deployment, StatefulSet, DaemonSet, Job
			{"spec", "jobTemplate", "spec", "template", "spec"}, // CronJob
			{"spec"}, // Pod
		} {
			for _, list := range []string{"initContainers", "containers"} {
				cs, err := r.Pipe(kyaml.Lookup(append(slices.Clone(path), list)...))
				if err != nil || cs == nil {
					continue
				}
				items, _ := cs.Elements()
				for _, c := range items {
					images[r.GetKind()+"/"+r.GetName()+" "+kyaml.GetValue(c.Field("name").Value)] = kyaml.GetValue(c.Field("image").Value)
				}
			}
		}
	}
	return images
}

// TestRunAddsImageForKustomize is the acceptance test for overlays
// without an images: list: the bump adds the entry, named as the bases
// name the image, and nothing else; kustomize build then runs the
// promoted digest in every workload that ran the old image (init
// containers, a CronJob, a StatefulSet pinned by digest), and nothing
// else changes.
func TestRunAddsImageForKustomize(t *testing.T) {
	isolate(t)
	dir, base := newRepo(t, gitopsRepo)
	overlay := "overlays/production/kustomization.yaml"
	before := kustomizeBuild(t, filepath.Join(dir, "overlays/production"))
	img := Image{Repository: "ghcr.io/acme/app", Digest: newDigest}

	res, err := Run(context.Background(), Options{Dir: dir, Overlay: overlay, Image: img, SourceCommit: source})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.OldRef != "" || res.NewRef != img.Ref() {
		t.Errorf("result %+v", res)
	}
	// The entry and nothing else.
	if numstat := git(t, dir, "diff", "--numstat", base, res.Branch); numstat != "4\t0\t"+overlay {
		t.Errorf("diff --numstat %q\n%s", numstat, git(t, dir, "diff", base, res.Branch))
	}
	want := realOverlay + "images:\n  - name: app\n    newName: ghcr.io/acme/app\n    digest: " + newDigest + "\n"
	if got := git(t, dir, "show", res.Branch+":"+overlay) + "\n"; got != want {
		t.Errorf("overlay on the branch:\n%s\nwant:\n%s", got, want)
	}

	git(t, dir, "checkout", "-q", res.Branch)
	after := kustomizeBuild(t, filepath.Join(dir, "overlays/production"))
	if len(after) != len(before) || len(after) < 5 {
		t.Fatalf("containers before %v, after %v", before, after)
	}
	pinned := 0
	for c, old := range before {
		n, _, _ := splitRef(old)
		switch {
		case n == "app" && after[c] == img.Ref():
			pinned++
		case n == "app":
			t.Errorf("%s runs %s, want %s", c, after[c], img.Ref())
		case after[c] != old:
			t.Errorf("%s ran %s and now runs %s", c, old, after[c])
		}
	}
	// The Deployment's init container and container, the CronJob's and the
	// StatefulSet's.
	if pinned != 4 {
		t.Errorf("%d containers pinned, want 4: %v", pinned, after)
	}

	// Run again on the merged overlay: the entry is found, nothing changes.
	git(t, dir, "checkout", "-q", "main")
	git(t, dir, "merge", "-q", "--ff-only", res.Branch)
	again, err := Run(context.Background(), Options{Dir: dir, Overlay: overlay, Image: img, SourceCommit: source})
	if err != nil || again.Changed || again.OldRef != img.Ref() {
		t.Errorf("second run: %+v, %v", again, err)
	}
}

// TestRunImageName: which image to add an entry for, when the bases run
// several and none is plainly the promoted one, is the caller's to say;
// the error lists the candidates, and a name the bases do not run is an
// error too (such an entry would change nothing).
func TestRunImageName(t *testing.T) {
	isolate(t)
	dir, base := newRepo(t, gitopsRepo)
	overlay := "overlays/production/kustomization.yaml"
	img := Image{Repository: "ghcr.io/acme/api", Digest: newDigest}

	for _, name := range []string{"", "apps"} {
		_, err := Run(context.Background(), Options{Dir: dir, Overlay: overlay, Name: name, Image: img, SourceCommit: source})
		var ne *ImageNameError
		if !errors.As(err, &ne) || !slices.Equal(ne.Candidates, []string{"app", "nginx"}) || !strings.Contains(err.Error(), overlay) {
			t.Errorf("name %q: error %v, want an ImageNameError listing app and nginx", name, err)
		}
	}
	if branches := git(t, dir, "branch", "--list"); branches != "* main" {
		t.Errorf("branches after refusals: %q", branches)
	}

	res, err := Run(context.Background(), Options{Dir: dir, Overlay: overlay, Name: "app", Image: img, SourceCommit: source})
	if err != nil {
		t.Fatal(err)
	}
	if diff := git(t, dir, "diff", "-U0", base, res.Branch); !strings.Contains(diff, "+  - name: app\n+    newName: ghcr.io/acme/api\n+    digest: "+newDigest) {
		t.Errorf("diff:\n%s", diff)
	}
	git(t, dir, "checkout", "-q", res.Branch)
	after := kustomizeBuild(t, filepath.Join(dir, "overlays/production"))
	if got := after["CronJob/report report"]; got != img.Ref() {
		t.Errorf("the CronJob runs %s", got)
	}
}
