package gitops

import (
	"strings"
	"testing"
)

// realOverlay is a production overlay as services write them, with no
// images: list: the bases' image is used as it is until a promotion.
const realOverlay = `# Production: more replicas, the prod namespace.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: prod

resources:
  - ../../base
  - pdb.yaml

patches:
  - path: replicas.yaml   # 3 replicas
    target:
      kind: Deployment

# keep in sync with the staging overlay
`

func TestAddKustomizeImage(t *testing.T) {
	entry := func(dash string, newName bool) string {
		pad := strings.Repeat(" ", len(dash))
		s := dash + "name: app\n"
		if newName {
			s += pad + "newName: ghcr.io/acme/api\n"
		}
		return s + pad + "digest: " + newDigest + "\n"
	}
	tests := []struct {
		name, in, entry string
		img             Image
		want            string
	}{{
		name: "no images: key: added at the end, after the closing comments, lists indented as the file's",
		in:   realOverlay, entry: "app", img: api,
		want: realOverlay + "images:\n" + entry("  - ", true),
	}, {
		name: "no images: key, lists not indented, no final line break",
		in:   "resources:\n- ../base\nnamespace: prod", entry: "app", img: api,
		want: "resources:\n- ../base\nnamespace: prod\nimages:\n" + strings.TrimSuffix(entry("- ", true), "\n"),
	}, {
		name: "no images: key, CRLF",
		in:   "resources:\r\n- ../base # the base\r\n", entry: "app", img: api,
		want: "resources:\r\n- ../base # the base\r\nimages:\r\n" + strings.ReplaceAll(entry("- ", true), "\n", "\r\n"),
	}, {
		name: "no images: key, ends in a one-line flow list and a document end",
		in:   "resources: [../base, 'x]y'] # c\n# done\n...\n", entry: "app", img: api,
		want: "resources: [../base, 'x]y'] # c\n# done\nimages:\n" + entry("- ", true) + "...\n",
	}, {
		name: "no images: key, last value tagged and anchored",
		in:   "resources:\n- ../base\nnamespace: !!str &ns prod\n", entry: "app", img: api,
		want: "resources:\n- ../base\nnamespace: !!str &ns prod\nimages:\n" + entry("- ", true),
	}, {
		name: "the name is the repository: no newName",
		in:   "resources:\n- ../base\n", entry: "ghcr.io/acme/api", img: api,
		want: "resources:\n- ../base\nimages:\n- name: ghcr.io/acme/api\n  digest: " + newDigest + "\n",
	}, {
		name: "a name YAML would read as a number is quoted",
		in:   "resources:\n- ../base\n", entry: "1.5", img: api,
		want: "resources:\n- ../base\nimages:\n- name: \"1.5\"\n  newName: ghcr.io/acme/api\n  digest: " + newDigest + "\n",
	}, {
		name: "images: list of other images: appended after the last, indented as it",
		in:   "images:\n   -   name: nginx\n       newTag: '1.27' # pinned\nresources:\n- ../base\n", entry: "app", img: api,
		want: "images:\n   -   name: nginx\n       newTag: '1.27' # pinned\n" + entry("   -   ", true) + "resources:\n- ../base\n",
	}, {
		name: "images: list whose last entry is not on its dash's line",
		in:   "images:\n-\n  name: nginx\n", entry: "app", img: api,
		want: "images:\n-\n  name: nginx\n" + entry("- ", true),
	}, {
		name: "empty images: key with a comment",
		in:   "images: # set by paved\nresources:\n  - ../base\n", entry: "app", img: api,
		want: "images: # set by paved\n" + entry("  - ", true) + "resources:\n  - ../base\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetKustomizeImage([]byte(tt.in), tt.entry, tt.img)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(e.Output); got != tt.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
			if !e.Changed || !e.Added || e.OldRef != "" || e.NewRef != tt.img.Ref() {
				t.Errorf("changed %v, added %v, refs %q -> %q", e.Changed, e.Added, e.OldRef, e.NewRef)
			}
			// Nothing but the entry: lines are only added, none removed
			// (a last line without a line break gets one).
			rem, adds := lineDiff([]byte(tt.in), e.Output)
			if want := strings.Count(tt.want, "\n") - strings.Count(tt.in, "\n"); adds-rem != want || rem > 1 {
				t.Errorf("diff removes %d and adds %d lines", rem, adds)
			}
			again, err := SetKustomizeImage(e.Output, tt.entry, tt.img)
			if err != nil || again.Changed {
				t.Errorf("second edit: changed=%v, %v", again != nil && again.Changed, err)
			}
			// Once added, the entry is found by the repository too.
			if again, err := SetKustomizeImage(e.Output, "", tt.img); err != nil || again.Changed {
				t.Errorf("edit by repository: changed=%v, %v", again != nil && again.Changed, err)
			}
		})
	}
}

func TestAddKustomizeImageErrors(t *testing.T) {
	for _, tt := range []struct {
		name, in, entry string
		want            []string
	}{
		{"flow list", "images: []\n", "app", []string{"[flow] list"}},
		{"written null", "images: ~\n", "app", []string{"images: is ~"}},
		{"images a mapping", "images: {name: app}\n", "app", []string{"images: is a mapping, not a list"}},
		{"flow file", "{resources: [../base]}\n", "app", []string{"{flow} mapping"}},
		{"ends in a block scalar", "resources:\n- ../base\nx: |\n  text\n", "app", []string{"block scalar"}},
		{"ends in a flow list over lines", "resources: [../base,\n  pdb.yaml]\n", "app", []string{"several lines"}},
		{"last entry ends in a block scalar", "images:\n- name: nginx\n  newTag: >\n    1.27\n", "app", []string{"block scalar"}},
		{"name with a tag", "resources: [a]\n", "app:v1", []string{`"app:v1"`, "no tag or digest"}},
		{"name with spaces", "resources: [a]\n", "a b", []string{`"a b"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := SetKustomizeImage([]byte(tt.in), tt.entry, api)
			if err == nil {
				t.Fatalf("no error; output:\n%s", e.Output)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			refusedByPlan(t, []byte(tt.in), err)
		})
	}
}

// FuzzAddKustomizeImage fuzzes kustomizations without an entry for the
// image: the edit is refused, or adds the entry's lines and nothing else,
// and kustomize then reads an entry that pins the digest.
func FuzzAddKustomizeImage(f *testing.F) {
	f.Add(realOverlay, "app", false)
	f.Add("resources:\n- ../base\nnamespace: prod", "app", true)
	f.Add("images:\n   -   name: nginx\n       newTag: '1.27' # pinned\nresources:\n- ../base\n", "ghcr.io/acme/api", false)
	f.Add("images: # set by paved\nresources:\n  - ../base\n", "app", true)
	f.Add("resources: [../base, 'x]y'] # c\n# done\n...\n", "app", false)
	f.Add("a:\n  b:\n  - c: !!str &x d\n", "app", false)
	f.Fuzz(func(t *testing.T, data, name string, crlf bool) {
		if crlf {
			data = strings.ReplaceAll(data, "\n", "\r\n")
		}
		checkKustomize(t, []byte(data), name)
	})
}

// checkAdded: an edit that added an entry only inserted lines, each a
// line of the entry (or images:).
func checkAdded(t *testing.T, in []byte, e *Edit, name string) {
	t.Helper()
	la := strings.Split(string(in), "\n")
	removed, added := diffLines(la, strings.Split(string(e.Output), "\n"))
	last := la[len(la)-1]
	if len(removed) == 1 && removed[0] == last && len(added) > 0 && strings.TrimSuffix(added[0], "\r") == last {
		removed, added = nil, added[1:]
	}
	if len(removed) != 0 || len(added) < 2 || len(added) > 4 {
		t.Fatalf("diff removes %q and adds %q:\n%q\n%q", removed, added, in, e.Output)
	}
	for _, l := range added {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimSuffix(l, "\r")), "- "))
		if l != "images:" && l != "name: "+name && l != `name: "`+name+`"` && l != "newName: "+api.Repository && l != "digest: "+api.Digest {
			t.Fatalf("added line %q is not the entry's:\n%q\n%q", l, in, e.Output)
		}
	}
}
