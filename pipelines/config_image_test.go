package pipelines

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/modules/build"
)

func TestImageSettings(t *testing.T) {
	c, err := ParseConfig([]byte(`
files:
  - {src: "web/static/*", dst: /srv/static/, mode: 0640}
  - {src: LICENSE, dst: /licenses/LICENSE, mode: "644"}
  - {src: scripts, dst: /opt/scripts}
ldflags:
  - -s -w -X main.version={{.Version}} -X main.commit={{.ShortCommit}}
  - -X main.date={{.Date}} -X main.builder={{.Env.CI_RUNNER}}
container:
  env: {PORT: 8080, LOG_LEVEL: info}
  ports: [8080, 9090/udp]
  labels: {team: payments}
  user: 65532:65532
  workdir: /srv
`))
	if err != nil {
		t.Fatal(err)
	}
	want := ImageSettings{
		Files:   []FileConfig{{Src: "web/static/*", Dst: "/srv/static/", Mode: 0o640}, {Src: "LICENSE", Dst: "/licenses/LICENSE", Mode: 0o644}, {Src: "scripts", Dst: "/opt/scripts"}},
		Ldflags: []string{"-s -w -X main.version={{.Version}} -X main.commit={{.ShortCommit}}", "-X main.date={{.Date}} -X main.builder={{.Env.CI_RUNNER}}"},
		Container: ContainerConfig{Env: map[string]string{"PORT": "8080", "LOG_LEVEL": "info"}, Ports: []string{"8080", "9090/udp"},
			Labels: map[string]string{"team": "payments"}, User: "65532:65532", Workdir: "/srv"},
	}
	if diff := cmp.Diff(want, c.ImageSettings); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Env in a stable order, whatever the map's.
	if diff := cmp.Diff([]string{"LOG_LEVEL=info", "PORT=8080"}, c.Container.Runtime().Env); diff != "" {
		t.Errorf("runtime env (-want +got):\n%s", diff)
	}
}

func TestImageSettingsErrors(t *testing.T) {
	tests := []struct{ yaml, field, msg string }{
		{"files:\n  - {dst: /srv/}\n", "paved.yaml: files[0].src", "a glob of files"},
		{"files:\n  - {src: ../up, dst: /srv/}\n", "paved.yaml: files[0].src", "inside the service"},
		{"files:\n  - {src: a, dst: srv}\n", "paved.yaml: files[0].dst", "absolute path"},
		{"files:\n  - {src: 'a[', dst: /srv/}\n", "paved.yaml: files[0].src", "syntax error in pattern"},
		{"files:\n  - {src: a, dst: /a}\n  - {src: b, dst: /b, mode: 0999}\n", "paved.yaml", "files[].mode \"0999\""},
		{"files:\n  - {src: a, dst: /a, mode: 01755}\n", "paved.yaml", "files[].mode \"01755\""},
		{"files:\n  - {src: a, dst: /a, owner: 1}\n", "paved.yaml: files[].owner", "unknown field"},
		{"ldflags: ['-X a={{.Version}}', '-X b={{.Version']\n", "paved.yaml: ldflags[1]", "unclosed action"},
		{"container:\n  env: {'A B': x}\n", "paved.yaml: container.env", `"A B" is not a variable name`},
		{"container:\n  ports: [80, http]\n", "paved.yaml: container.ports[1]", `"http": want a port`},
		{"container:\n  user: 'a b'\n", "paved.yaml: container.user", "uid[:gid]"},
		{"container:\n  workdir: srv\n", "paved.yaml: container.workdir", "absolute path"},
		{"container:\n  cmd: [x]\n", "paved.yaml: container.cmd", "unknown field"},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.yaml))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field || !strings.Contains(ce.Msg, tt.msg) {
			t.Errorf("%q: err = %v, want field %q and a message containing %q", tt.yaml, err, tt.field, tt.msg)
		}
	}
}

// What paved.yaml accepts, the build module accepts too: no setting
// passes the file's check and fails later, after minutes of compiling.
func FuzzImageSettings(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a ConfigError", err)
			}
			return
		}
		for i, fc := range c.Files {
			if err := build.ValidFile(fc.File()); err != nil {
				t.Fatalf("files[%d] accepted, but the build refuses it: %v", i, err)
			}
		}
		if err := build.ParseLdflags(c.Ldflags); err != nil {
			t.Fatalf("ldflags accepted, but do not parse: %v", err)
		}
		if err := c.Container.Runtime().Validate(); err != nil {
			t.Fatalf("container accepted, but the build refuses it: %v", err)
		}
	})
}
