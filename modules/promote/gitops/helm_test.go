package gitops

import (
	"errors"
	"strings"
	"testing"
)

// values is a chart's values file in the common shape.
var values = `# Default values for api.
replicaCount: 3

image:
  registry: ghcr.io
  repository: acme/api
  tag: "1.4.2"
  digest: ""  # set by paved
  pullPolicy: IfNotPresent

worker:
  image:
    repository: ghcr.io/acme/worker
    tag: 2.0.1 # tag only

sidecars:
  - name: proxy
    image: ghcr.io/acme/proxy:2.1  # pinned by hand
  - name: cron
    image: 'ghcr.io/acme/cron@` + oldDigest + `'
`

func TestSetHelmImage(t *testing.T) {
	worker := Image{Repository: "ghcr.io/acme/worker", Digest: newDigest, Tag: "2.0.2"}
	proxy := Image{Repository: "ghcr.io/acme/proxy", Digest: newDigest}
	cron := Image{Repository: "ghcr.io/acme/cron", Digest: newDigest}
	tests := []struct {
		name    string
		in      string
		path    string
		img     Image
		want    string // "" = unchanged
		old     string
		newRef  string
		changed bool
	}{{
		name: "digest key, registry joined",
		in:   values, img: api,
		want: replaceLine(t, values, `  digest: ""  # set by paved`, `  digest: "`+newDigest+`"  # set by paved`),
		old:  "ghcr.io/acme/api:1.4.2", newRef: api.Ref(),
	}, {
		name: "digest key already set",
		in:   strings.Replace(values, `digest: ""`, "digest: "+newDigest, 1), path: "image", img: api,
		old: "ghcr.io/acme/api:1.4.2@" + newDigest, newRef: api.Ref(),
	}, {
		name: "tag only: tag@digest",
		in:   values, path: "worker.image", img: worker,
		want:   replaceLine(t, values, "    tag: 2.0.1 # tag only", "    tag: 2.0.2@"+newDigest+" # tag only"),
		old:    "ghcr.io/acme/worker:2.0.1",
		newRef: "ghcr.io/acme/worker:2.0.2@" + newDigest,
	}, {
		name: "tag@digest already",
		in:   "worker:\n  image:\n    tag: 2.0.2@" + newDigest + "\n", path: "worker.image", img: Image{Repository: "ghcr.io/acme/worker", Digest: newDigest},
		old:    "ghcr.io/acme/worker:2.0.2@" + newDigest,
		newRef: "ghcr.io/acme/worker:2.0.2@" + newDigest,
	}, {
		name: "reference string",
		in:   values, path: "sidecars.0.image", img: proxy,
		want:   replaceLine(t, values, "    image: ghcr.io/acme/proxy:2.1  # pinned by hand", "    image: ghcr.io/acme/proxy@"+newDigest+"  # pinned by hand"),
		old:    "ghcr.io/acme/proxy:2.1",
		newRef: proxy.Ref(),
	}, {
		name: "reference string with tag, quoted",
		in:   values, path: "sidecars.1.image", img: Image{Repository: cron.Repository, Digest: newDigest, Tag: "3"},
		want:   replaceLine(t, values, "    image: 'ghcr.io/acme/cron@"+oldDigest+"'", "    image: 'ghcr.io/acme/cron:3@"+newDigest+"'"),
		old:    "ghcr.io/acme/cron@" + oldDigest,
		newRef: "ghcr.io/acme/cron:3@" + newDigest,
	}, {
		name: "reference string already pinned",
		in:   values, path: "sidecars.1.image", img: Image{Repository: cron.Repository, Digest: oldDigest},
		old:    "ghcr.io/acme/cron@" + oldDigest,
		newRef: "ghcr.io/acme/cron@" + oldDigest,
	}, {
		name: "registry with a port",
		in:   "image: localhost:5000/api:v1\r\n", img: Image{Repository: "localhost:5000/api", Digest: newDigest},
		want:   "image: localhost:5000/api@" + newDigest + "\r\n",
		old:    "localhost:5000/api:v1",
		newRef: "localhost:5000/api@" + newDigest,
	}, {
		name: "byte order mark before the value's line",
		in:   "\ufeffimage: ghcr.io/acme/api:v1 # é\n", img: api,
		want:   "\ufeffimage: ghcr.io/acme/api@" + newDigest + " # é\n",
		old:    "ghcr.io/acme/api:v1",
		newRef: api.Ref(),
	}, {
		name: "no repository key",
		in:   "image:\n  digest: null\n", img: api,
		want: "image:\n  digest: " + newDigest + "\n",
		old:  "ghcr.io/acme/api", newRef: api.Ref(),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetHelmImage([]byte(tt.in), tt.path, tt.img)
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
			if e.OldRef != tt.old || e.NewRef != tt.newRef {
				t.Errorf("refs %q -> %q, want %q -> %q", e.OldRef, e.NewRef, tt.old, tt.newRef)
			}
			if rem, adds := lineDiff([]byte(tt.in), e.Output); e.Changed && (rem != 1 || adds != 1) {
				t.Errorf("diff removes %d and adds %d lines, want one changed line", rem, adds)
			}
			again, err := SetHelmImage(e.Output, tt.path, tt.img)
			if err != nil || again.Changed {
				t.Errorf("second edit: changed=%v, %v", again != nil && again.Changed, err)
			}
		})
	}
}

func TestSetHelmImageErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		path string
		img  Image
		want []string
		is   error
	}{
		{name: "other repository", in: values, img: Image{Repository: "ghcr.io/acme/billing", Digest: newDigest},
			want: []string{`image.repository is "ghcr.io/acme/api"`, "ghcr.io/acme/billing"}, is: ErrImageNotFound},
		{name: "no such path", in: values, path: "billing.image", img: api, want: []string{"no billing"}, is: ErrImageNotFound},
		{name: "index out of range", in: values, path: "sidecars.2.image", img: api, want: []string{"sidecars.2", "a list of 2"}, is: ErrImageNotFound},
		{name: "path through a scalar", in: values, path: "replicaCount.image", img: api, want: []string{"replicaCount.image", "scalar"}, is: ErrImageNotFound},
		{name: "empty step", in: values, path: "image..tag", img: api, want: []string{"empty step"}},
		{name: "a list", in: values, path: "sidecars", img: api, want: []string{"list"}, is: ErrImageNotFound},
		{name: "reference of another image", in: values, path: "sidecars.0.image", img: api, want: []string{"ghcr.io/acme/proxy:2.1", "ghcr.io/acme/api"}, is: ErrImageNotFound},
		{name: "tag only, no tag given", in: values, path: "worker.image", img: Image{Repository: "ghcr.io/acme/worker", Digest: newDigest},
			want: []string{"worker.image pins a tag only", "worker.image.digest"}},
		{name: "neither tag nor digest", in: "image:\n  repository: ghcr.io/acme/api\n", img: api, want: []string{"neither"}, is: ErrImageNotFound},
		{name: "alias", in: "base: &i {repository: ghcr.io/acme/api, digest: x}\nimage: *i\n", img: api, want: []string{"alias"}},
		{name: "duplicate digest", in: "image:\n  digest: a\n  digest: b\n", img: api, want: []string{"twice"}},
		{name: "not a mapping", in: "[image]\n", img: api, want: []string{"not a mapping"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetHelmImage([]byte(tt.in), tt.path, tt.img)
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
