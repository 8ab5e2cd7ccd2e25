package gitops

import (
	"bytes"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// checkEdit holds for any edit of any input: an edit that succeeds gives
// a file that parses, differs from the input in at most maxLines lines
// (each holding the new value), and is a fixed point: editing it again
// changes nothing. An unchanged edit returns the input itself.
func checkEdit(t *testing.T, in []byte, e *Edit, maxLines int, again func([]byte) (*Edit, error)) {
	t.Helper()
	if !e.Changed {
		if !bytes.Equal(e.Output, in) {
			t.Fatalf("unchanged edit altered the file:\n%q\n%q", in, e.Output)
		}
		return
	}
	var n yaml.Node
	if err := yaml.Unmarshal(e.Output, &n); err != nil {
		t.Fatalf("output does not parse: %v\n%q", err, e.Output)
	}
	la := strings.Split(string(in), "\n")
	removed, added := diffLines(la, strings.Split(string(e.Output), "\n"))
	// A line added after a last line without a line break gives that line
	// one: with CRLF, that shows here as a changed line.
	last := la[len(la)-1]
	if i, j := slices.Index(removed, last), slices.Index(added, last+"\r"); i >= 0 && j >= 0 {
		removed, added = slices.Delete(removed, i, i+1), slices.Delete(added, j, j+1)
	}
	if len(added) < 1 || len(removed) > len(added) || len(added) > maxLines {
		t.Fatalf("diff removes %q and adds %q:\n%q\n%q", removed, added, in, e.Output)
	}
	for _, l := range added {
		if !strings.Contains(l, api.Digest) && !strings.Contains(l, api.Repository) {
			t.Fatalf("changed line %q holds neither the digest nor the repository:\n%q\n%q", l, in, e.Output)
		}
	}
	e2, err := again(e.Output)
	if err != nil || e2.Changed {
		t.Fatalf("second edit: changed=%v, %v\n%q", e2 != nil && e2.Changed, err, e.Output)
	}
}

// refusedByPlan fails unless err is a refusal the edit planned: the
// check of the result after splicing is a safety net, and a plan it
// catches is a bug (a value's text found in the wrong place).
func refusedByPlan(t *testing.T, data []byte, err error) {
	t.Helper()
	if strings.Contains(err.Error(), "cannot edit the file in place") {
		t.Fatalf("%v\n%q", err, data)
	}
}

// FuzzSetKustomizeImage: any kustomization either is refused or gets a
// one-line (two when newName must change) edit that pins the digest.
func FuzzSetKustomizeImage(f *testing.F) {
	f.Add([]byte(kustomization), "")
	f.Add([]byte(kustomization), "api")
	f.Add([]byte("images:\r\n- name: ghcr.io/acme/api\r\n  newTag: 'v1' # c\r\n"), "")
	f.Add([]byte("images: [{name: app, newName: \"ghcr.io/acme/api\", digest: \"\"}]"), "app")
	f.Add([]byte("images:\n- name: app\n"), "app")
	f.Fuzz(checkKustomize)
}

// FuzzKustomizeEntry fuzzes the fields of a matching images: entry, so
// that most inputs parse and reach the edit.
func FuzzKustomizeEntry(f *testing.F) {
	f.Add("  newTag: v1 # c\n", false)
	f.Add("  newName: ghcr.io/acme/api\n  newTag: 'v1'\n  digest: \"\"\n# end", true)
	f.Add("  newName: other/api # moved\n", false)
	f.Add("  digest:\n  newTag:\n", true)
	f.Add("  newTag:\n", false)   // the value is found from the key's text, before the key is renamed
	f.Add("  digest: ", false)    // a space after the colon is reused, not doubled
	f.Add("  digest: # c", false) // unless the value would touch the #
	f.Add("  newTag:   \"v1\"   # x\n- name: nginx\n  newTag: '1'\n", false)
	f.Fuzz(func(t *testing.T, fields string, crlf bool) {
		data := "# overlay\nimages:\n- name: ghcr.io/acme/api\n" + fields
		if crlf {
			data = strings.ReplaceAll(data, "\n", "\r\n")
		}
		checkKustomize(t, []byte(data), "")
	})
}

// checkKustomize: the edit is refused, or is a one-line (two when newName
// must change) edit, or adds an entry and nothing else, after which
// kustomize reads the digest.
func checkKustomize(t *testing.T, data []byte, name string) {
	t.Helper()
	e, err := SetKustomizeImage(data, name, api)
	if err != nil {
		refusedByPlan(t, data, err)
		return
	}
	again := func(b []byte) (*Edit, error) { return SetKustomizeImage(b, name, api) }
	if e.Added {
		checkAdded(t, data, e, name)
		if e2, err := again(e.Output); err != nil || e2.Changed {
			t.Fatalf("second edit: changed=%v, %v\n%q", e2 != nil && e2.Changed, err, e.Output)
		}
	} else {
		checkEdit(t, data, e, 2, again)
	}
	if !e.Changed {
		return
	}
	// What kustomize will read: the entry pins the digest in the
	// promoted repository.
	var k struct {
		Images []struct {
			Name    string `yaml:"name"`
			NewName string `yaml:"newName"`
			Digest  string `yaml:"digest"`
		} `yaml:"images"`
	}
	if yaml.Unmarshal(e.Output, &k) != nil {
		return // a field of another type: not this test's business
	}
	for _, img := range k.Images {
		repo := img.NewName
		if repo == "" {
			repo = img.Name
		}
		if (img.Name == name || name == "" && (img.Name == api.Repository || img.NewName == api.Repository)) &&
			repo == api.Repository && img.Digest == api.Digest {
			return
		}
	}
	t.Fatalf("no entry pins %s:\n%q", api.Ref(), e.Output)
}

// FuzzSetHelmImage: any values file either is refused or gets a one-line
// edit that pins the digest.
func FuzzSetHelmImage(f *testing.F) {
	f.Add([]byte(values), "image", "")
	f.Add([]byte("image:\n  repository: ghcr.io/acme/api\n  tag: v1\n"), "image", "v2")
	f.Add([]byte("a:\n- image: \"ghcr.io/acme/api:v1\"\r\n"), "a.0.image", "")
	f.Fuzz(func(t *testing.T, data []byte, path, tag string) {
		checkHelm(t, data, path, tag)
	})
}

// FuzzHelmImage fuzzes the fields of an image mapping that names the
// repository, or an image reference, so that most inputs parse and reach
// the edit.
func FuzzHelmImage(f *testing.F) {
	f.Add("  tag: \"1.4.2\"\n  digest: \"\"  # set by paved\n", false, false, false)
	f.Add("  tag: v1 # c\n", false, true, true)
	f.Add("  tag: v1@sha256:00\n  pullPolicy: Always\n", false, true, false)
	f.Add("  digest:\n  tag:\n", false, false, true)
	f.Add("ghcr.io/acme/api:1.0 # ref\n", true, false, true)
	f.Add("'ghcr.io/acme/api@sha256:00'\n", true, true, false)
	f.Fuzz(func(t *testing.T, fields string, scalar, withTag, crlf bool) {
		data := "# values\nimage:\n  repository: ghcr.io/acme/api\n" + fields
		if scalar {
			data = "# values\nimage: " + fields
		}
		if crlf {
			data = strings.ReplaceAll(data, "\n", "\r\n")
		}
		tag := ""
		if withTag {
			tag = "v2"
		}
		checkHelm(t, []byte(data), "image", tag)
	})
}

// checkHelm: the edit is refused, or is a one-line edit after which the
// chart reads the digest at path.
func checkHelm(t *testing.T, data []byte, path, tag string) {
	t.Helper()
	img := api
	img.Tag = tag
	e, err := SetHelmImage(data, path, img)
	if err != nil {
		refusedByPlan(t, data, err)
		return
	}
	checkEdit(t, data, e, 1, func(b []byte) (*Edit, error) { return SetHelmImage(b, path, img) })
	if !e.Changed {
		return
	}
	// What the chart will read at path pins the digest.
	var v any
	if err := yaml.Unmarshal(e.Output, &v); err != nil {
		t.Fatal(err)
	}
	if path == "" {
		path = DefaultHelmPath
	}
	for _, step := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[step]
		case map[any]any:
			// Keys that are not all strings: look the step up as
			// the string it was written as, or the number.
			i, err := strconv.Atoi(step)
			if x, ok := n[step]; ok || err != nil {
				v = x
			} else {
				v = n[i]
			}
		case []any:
			i, _ := strconv.Atoi(step)
			v = n[i]
		default:
			t.Fatalf("%s is not at %s:\n%q", path, step, e.Output)
		}
	}
	pinned := func(s any) bool {
		str, _ := s.(string)
		return strings.HasSuffix(str, "@"+api.Digest) || str == api.Digest
	}
	m, ok := v.(map[string]any)
	if mm, isMap := v.(map[any]any); isMap {
		m, ok = map[string]any{"digest": mm["digest"], "tag": mm["tag"]}, true
	}
	if !(ok && (pinned(m["digest"]) || m["digest"] == nil && pinned(m["tag"])) || !ok && pinned(v)) {
		t.Fatalf("%s does not pin %s: %#v\n%q", path, api.Digest, v, e.Output)
	}
}

// FuzzCheckAPIURL: an accepted GitHub API URL sends the token only over
// https or to loopback and holds no credentials; an error never repeats a
// password.
func FuzzCheckAPIURL(f *testing.F) {
	for _, s := range []string{
		"https://api.github.com", "http://127.0.0.1:8080/api/v3", "http://[::1]:1/", "http://localhost/",
		"http://github.example.com", "https://u:p@github.example.com", "http://u:p@[::1", "http://127.0.0.1.nip.io/",
		"HTTP://LOCALHOST/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://127.0.0.1%2f@evil.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckAPIURL(s)
		u, perr := url.Parse(s)
		if err != nil {
			if perr == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok && len(pw) > 3 && strings.Contains(err.Error(), pw) {
					t.Fatalf("error shows the password: %v", err)
				}
			}
			return
		}
		if perr != nil || u.User != nil || u.Host == "" {
			t.Fatalf("accepted %q", s)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
			t.Fatalf("accepted %q: the token would travel in clear", s)
		}
	})
}
