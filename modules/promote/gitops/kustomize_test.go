package gitops

import (
	"errors"
	"strings"
	"testing"
)

// kustomization is a production overlay as people write them: comments,
// several images pinned in different ways, quoting, other fields.
var kustomization = `# Production overlay for the api service.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod   # keep in sync with the cluster

resources:
  - ../../base
  - ingress.yaml

images:
  # The worker is pinned by digest already.
  - name: ghcr.io/acme/worker
    digest: ` + oldDigest + `
  - name: api          # placeholder used in base
    newName: ghcr.io/acme/api
    newTag: "v1.4.2"   # bumped by paved
  - name: nginx
    newTag: 1.27-alpine
  - name: ghcr.io/acme/jobs
    newName: ghcr.io/acme/jobs

patches:
  - path: replicas.yaml
`

func TestSetKustomizeImage(t *testing.T) {
	worker := Image{Repository: "ghcr.io/acme/worker", Digest: newDigest}
	jobs := Image{Repository: "ghcr.io/acme/jobs", Digest: newDigest}
	tests := []struct {
		name      string
		in        string
		entry     string
		img       Image
		want      string // "" = unchanged
		old       string
		rem, adds int // lines removed and added
	}{{
		name: "newTag becomes digest, quoting and comment kept",
		in:   kustomization, img: api,
		want: replaceLine(t, kustomization, `    newTag: "v1.4.2"   # bumped by paved`, `    digest: "`+newDigest+`"   # bumped by paved`),
		old:  "ghcr.io/acme/api:v1.4.2", rem: 1, adds: 1,
	}, {
		name: "matched by its name",
		in:   kustomization, entry: "api", img: api,
		want: replaceLine(t, kustomization, `    newTag: "v1.4.2"   # bumped by paved`, `    digest: "`+newDigest+`"   # bumped by paved`),
		old:  "ghcr.io/acme/api:v1.4.2", rem: 1, adds: 1,
	}, {
		name: "digest replaced",
		in:   kustomization, img: worker,
		want: replaceLine(t, kustomization, "    digest: "+oldDigest, "    digest: "+newDigest),
		old:  "ghcr.io/acme/worker@" + oldDigest, rem: 1, adds: 1,
	}, {
		name: "already pinned",
		in:   kustomization, img: Image{Repository: "ghcr.io/acme/worker", Digest: oldDigest},
		old: "ghcr.io/acme/worker@" + oldDigest,
	}, {
		name: "no tag or digest: a digest line is added",
		in:   kustomization, img: jobs,
		want: replaceLine(t, kustomization, "    newName: ghcr.io/acme/jobs\n", "    newName: ghcr.io/acme/jobs\n    digest: "+newDigest+"\n"),
		old:  "ghcr.io/acme/jobs", adds: 1,
	}, {
		name: "name is the repository but newName another: newName follows",
		in:   "images:\n- name: ghcr.io/acme/api\n  newName: registry.staging/api\n  newTag: v1\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  newName: ghcr.io/acme/api\n  digest: " + newDigest + "\n",
		old:  "registry.staging/api:v1", rem: 2, adds: 2,
	}, {
		name: "placeholder name without newName: newName and digest added",
		in:   "images:\n  - name: app # from base\n", entry: "app", img: api,
		want: "images:\n  - name: app # from base\n    newName: ghcr.io/acme/api\n    digest: " + newDigest + "\n",
		old:  "app", adds: 2,
	}, {
		name: "CRLF kept",
		in:   "images:\r\n  - name: ghcr.io/acme/api\r\n    newTag: v1\r\nnamespace: prod\r\n",
		img:  api,
		want: "images:\r\n  - name: ghcr.io/acme/api\r\n    digest: " + newDigest + "\r\nnamespace: prod\r\n",
		old:  "ghcr.io/acme/api:v1", rem: 1, adds: 1,
	}, {
		name: "CRLF kept when a line is added",
		in:   "images:\r\n  - name: ghcr.io/acme/api\r\nnamespace: prod\r\n",
		img:  api,
		want: "images:\r\n  - name: ghcr.io/acme/api\r\n    digest: " + newDigest + "\r\nnamespace: prod\r\n",
		old:  "ghcr.io/acme/api", adds: 1,
	}, {
		name: "flow entry",
		in:   "images: [{name: nginx, newTag: '1'}, {name: ghcr.io/acme/api, newTag: 'v1'}]\n",
		img:  api,
		want: "images: [{name: nginx, newTag: '1'}, {name: ghcr.io/acme/api, digest: '" + newDigest + "'}]\n",
		old:  "ghcr.io/acme/api:v1", rem: 1, adds: 1,
	}, {
		name: "no final line break, line added",
		in:   "images:\n- name: ghcr.io/acme/api",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: " + newDigest,
		old:  "ghcr.io/acme/api", adds: 1,
	}, {
		name: "empty digest",
		in:   "images:\n- name: ghcr.io/acme/api\n  digest:   # fill me\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: " + newDigest + "  # fill me\n",
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "empty digest, one space before the comment",
		in:   "images:\n- name: ghcr.io/acme/api\n  digest: # fill me\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: " + newDigest + " # fill me\n",
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "empty digest at the end",
		in:   "images:\n- name: ghcr.io/acme/api\n  digest:",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: " + newDigest,
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "empty newTag",
		in:   "images:\n- name: ghcr.io/acme/api\n  newTag:\t# soon\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: " + newDigest + "\t# soon\n",
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "empty newTag in a flow entry",
		in:   "images: [{name: ghcr.io/acme/api, newTag: }]\n",
		img:  api,
		want: "images: [{name: ghcr.io/acme/api, digest: " + newDigest + "}]\n",
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "quoted empty digest",
		in:   "images:\n- name: ghcr.io/acme/api\n  digest: \"\"\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  digest: \"" + newDigest + "\"\n",
		old:  "ghcr.io/acme/api", rem: 1, adds: 1,
	}, {
		name: "tag and digest: digest replaced, tag left",
		in:   "images:\n- name: ghcr.io/acme/api\n  newTag: v1\n  digest: '" + oldDigest + "'\n",
		img:  api,
		want: "images:\n- name: ghcr.io/acme/api\n  newTag: v1\n  digest: '" + newDigest + "'\n",
		old:  "ghcr.io/acme/api:v1@" + oldDigest, rem: 1, adds: 1,
	}, {
		name: "byte order mark and tabs in comments",
		in:   "\ufeffimages:\t# list\n- name: ghcr.io/acme/api\n  newTag: v1\t# tab\n",
		img:  api,
		want: "\ufeffimages:\t# list\n- name: ghcr.io/acme/api\n  digest: " + newDigest + "\t# tab\n",
		old:  "ghcr.io/acme/api:v1", rem: 1, adds: 1,
	}, {
		name: "non-ASCII before the value",
		in:   "images:\n- {name: ghcr.io/acme/api, newTag: v1} # héllo\n# déjà vu\n",
		img:  api,
		want: "images:\n- {name: ghcr.io/acme/api, digest: " + newDigest + "} # héllo\n# déjà vu\n",
		old:  "ghcr.io/acme/api:v1", rem: 1, adds: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetKustomizeImage([]byte(tt.in), tt.entry, tt.img)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if got := string(e.Output); got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
			if e.Changed != (tt.want != "") {
				t.Errorf("Changed = %v", e.Changed)
			}
			if e.OldRef != tt.old || e.NewRef != tt.img.Ref() {
				t.Errorf("refs %q -> %q, want %q -> %q", e.OldRef, e.NewRef, tt.old, tt.img.Ref())
			}
			if rem, adds := lineDiff([]byte(tt.in), e.Output); rem != tt.rem || adds != tt.adds {
				t.Errorf("diff removes %d and adds %d lines, want %d and %d", rem, adds, tt.rem, tt.adds)
			}
			again, err := SetKustomizeImage(e.Output, tt.entry, tt.img)
			if err != nil || again.Changed {
				t.Errorf("second edit: changed=%v, %v", again != nil && again.Changed, err)
			}
		})
	}
}

func TestSetKustomizeImageErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		entry string
		img   Image
		want  []string // substrings of the error
		is    error
	}{
		{name: "no entry", in: kustomization, img: Image{Repository: "ghcr.io/acme/billing", Digest: newDigest},
			want: []string{"ghcr.io/acme/billing"}, is: ErrImageNotFound},
		{name: "no images list", in: "resources: [a]\n", img: api, want: []string{"no images: list", "no image name"}, is: ErrImageNotFound},
		{name: "images not a list", in: "images: {name: x}\n", img: api, want: []string{"images: is a mapping, not a list"}},
		{name: "ambiguous", in: "images:\n- name: ghcr.io/acme/api\n- name: x\n  newName: ghcr.io/acme/api\n", img: api,
			want: []string{"lines 2 and 3", "ambiguous"}},
		{name: "top level list", in: "- images\n", img: api, want: []string{"not a mapping"}},
		{name: "empty", in: "", img: api, want: []string{"empty"}},
		{name: "two documents", in: "images: []\n---\nimages: []\n", img: api, want: []string{"several YAML documents"}},
		{name: "not YAML", in: "images: [\n", img: api, want: []string{"parse"}},
		{name: "block scalar", in: "images:\n- name: ghcr.io/acme/api\n  digest: |\n    " + oldDigest + "\n", img: api, want: []string{"line 3", "block scalar"}},
		{name: "multi-line plain", in: "images:\n- name: ghcr.io/acme/api\n  digest: sha256:ab\n    cd\n", img: api, want: []string{"several lines"}},
		{name: "multi-line quoted", in: "images:\n- name: ghcr.io/acme/api\n  digest: \"sha256:ab\n    cd\"\n", img: api, want: []string{"several lines"}},
		{name: "anchor", in: "images:\n- name: ghcr.io/acme/api\n  digest: &d " + oldDigest + "\nx: *d\n", img: api, want: []string{"anchor"}},
		{name: "tag", in: "images:\n- name: ghcr.io/acme/api\n  newTag: !!str v1\n", img: api, want: []string{"tag"}},
		{name: "alias", in: "d: &d v1\nimages:\n- name: ghcr.io/acme/api\n  newTag: *d\n", img: api, want: []string{"alias"}},
		{name: "merge key", in: "images:\n- <<: {newTag: v1}\n  name: ghcr.io/acme/api\n", img: api, want: []string{"merge key"}},
		{name: "duplicate key", in: "images:\n- name: ghcr.io/acme/api\n  newTag: v1\n  newTag: v2\n", img: api, want: []string{"twice"}},
		{name: "tag value on its own line", in: "images:\n- name: ghcr.io/acme/api\n  newTag:\n    v1\n", img: api, want: []string{"not on its key's line"}},
		{name: "flow entry without digest", in: "images: [{name: ghcr.io/acme/api}]\n", img: api, want: []string{"flow"}},
		{name: "lone CR", in: "images:\r- name: ghcr.io/acme/api\r", img: api, want: []string{"carriage return"}},
		{name: "line separator", in: "# \u2028\nimages: []\n", img: api, want: []string{"U+2028"}},
		{name: "UTF-16", in: "\xff\xfei\x00", img: api, want: []string{"UTF-16"}},
		{name: "bad digest", in: kustomization, img: Image{Repository: "ghcr.io/acme/api", Digest: "sha256:abc"}, want: []string{"sha256:abc"}},
		{name: "repository with tag", in: kustomization, img: Image{Repository: "ghcr.io/acme/api:v1", Digest: newDigest}, want: []string{"not a repository"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetKustomizeImage([]byte(tt.in), tt.entry, tt.img)
			if err == nil {
				t.Fatalf("no error; output:\n%s", e.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func TestDetectKind(t *testing.T) {
	for file, want := range map[string]Kind{
		"deploy/prod/kustomization.yaml": Kustomize,
		"kustomization.yml":              Kustomize,
		"overlays/Kustomization":         Kustomize,
		"deploy/prod/values.yaml":        HelmValues,
		"kustomization.yaml.bak":         HelmValues,
		"charts/api/values-prod.yml":     HelmValues,
	} {
		if got := DetectKind(file); got != want {
			t.Errorf("DetectKind(%q) = %s, want %s", file, got, want)
		}
	}
}
