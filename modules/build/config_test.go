package build

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestGoRuntimeConfig(t *testing.T) {
	dir := fixture(t, fixtureMain)
	rc := RuntimeConfig{
		Env:        []string{"PORT=8080", "PATH=/app:/usr/bin", "GREETING=a=b"},
		Ports:      []string{"8080", "9090/udp"},
		Labels:     map[string]string{"team": "payments", AnnotationCreated: "not this"},
		User:       "1000:1000",
		WorkingDir: "/srv",
	}
	idx, err := Go(context.Background(), Options{Dir: dir, Created: created, Config: rc, Platforms: []v1.Platform{amd64}, Env: offlineEnv})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := imageFor(t, idx, amd64).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	wantEnv := []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "PORT=8080", "PATH=/app:/usr/bin", "GREETING=a=b"}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]struct{}{"8080/tcp": {}, "9090/udp": {}}, c.ExposedPorts); diff != "" {
		t.Errorf("exposed ports (-want +got):\n%s", diff)
	}
	if c.Labels["team"] != "payments" || c.Labels[AnnotationCreated] != "2024-05-06T07:08:09Z" {
		t.Errorf("labels = %v: want team, and paved's created over the one asked", c.Labels)
	}
	if c.User != "1000:1000" || c.WorkingDir != "/srv" {
		t.Errorf("user %q, workdir %q", c.User, c.WorkingDir)
	}
}

func TestRuntimeConfigValidate(t *testing.T) {
	tests := []struct {
		rc      RuntimeConfig
		wantErr string
	}{
		{RuntimeConfig{Env: []string{"NOVALUE"}}, `env[0]: "NOVALUE": want KEY=VALUE`},
		{RuntimeConfig{Env: []string{"A=1", "1A=2"}}, `env[1]: "1A" is not a variable name`},
		{RuntimeConfig{Ports: []string{"80", "0"}}, `ports[1]: "0": want a port from 1 to 65535`},
		{RuntimeConfig{Ports: []string{"70000"}}, `ports[0]: "70000"`},
		{RuntimeConfig{Ports: []string{"080"}}, `ports[0]: "080"`},
		{RuntimeConfig{Ports: []string{"80/icmp"}}, `ports[0]: "80/icmp": protocol "icmp"`},
		{RuntimeConfig{Labels: map[string]string{" ": "x"}}, "labels: an empty key"},
		{RuntimeConfig{User: "a b"}, `user: "a b"`},
		{RuntimeConfig{User: "1:2:3"}, `user: "1:2:3"`},
		{RuntimeConfig{WorkingDir: "srv"}, `workdir: "srv": want an absolute path`},
	}
	for _, tt := range tests {
		err := tt.rc.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%+v: err = %v, want one containing %q", tt.rc, err, tt.wantErr)
		}
		// Go refuses it too, before compiling anything.
		if _, err := Go(context.Background(), Options{Dir: t.TempDir(), Config: tt.rc}); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Go with %+v: err = %v", tt.rc, err)
		}
	}
	ok := RuntimeConfig{Env: []string{"A="}, Ports: []string{"1", "65535/sctp"}, User: "nonroot:nonroot", WorkingDir: "/"}
	if err := ok.Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}

func FuzzParsePort(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePort(s)
		if err != nil {
			return
		}
		// The canonical form parses to itself.
		if again, err := ParsePort(p); err != nil || again != p {
			t.Errorf("ParsePort(%q) = %q, then %q, %v", s, p, again, err)
		}
	})
}
