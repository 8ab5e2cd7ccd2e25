package version

import (
	"runtime/debug"
	"testing"
)

func TestMainVersion(t *testing.T) {
	const rev = "5c7a3dc5db50bae8ca08afb1729fb7a5de97d6e3"
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"release", "v1.4.0", vcs("vcs.revision", rev, "vcs.time", "2026-11-30T18:08:00Z"), "v1.4.0"},
		{"go stamped a pseudo-version", "v0.0.0-20261130180800-5c7a3dc5db50+dirty", nil, "v0.0.0-20261130180800-5c7a3dc5db50+dirty"},
		{"checkout", "(devel)", vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-30T18:08:00Z", "vcs.modified", "false"), "v0.0.0-20261130180800-5c7a3dc5db50"},
		{"modified checkout", "(devel)", vcs("vcs.revision", rev, "vcs.time", "2026-11-30T18:08:00Z", "vcs.modified", "true"), "v0.0.0-20261130180800-5c7a3dc5db50+dirty"},
		{"commit time in another zone", "", vcs("vcs.revision", rev, "vcs.time", "2026-11-30T19:08:00+01:00"), "v0.0.0-20261130180800-5c7a3dc5db50"},
		{"no commit time", "(devel)", vcs("vcs.revision", rev, "vcs.modified", "true"), "devel-5c7a3dc5db50+dirty"},
		{"short revision", "(devel)", vcs("vcs.revision", "abc123"), "devel-abc123"},
		{"no version control", "(devel)", vcs("-buildmode", "exe"), "devel"},
		{"nothing", "", nil, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/pavedhq/paved", Version: tt.version}, Settings: tt.settings}
			if got := Main(bi); got != tt.want {
				t.Errorf("Main = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOf(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/pavedhq/paved", Version: "v0.3.0"},
			{Path: "example.com/forked", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1"}},
		},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}},
	}
	for path, want := range map[string]string{
		"github.com/pavedhq/paved": "v0.3.0",
		"example.com/forked":       "v1.0.1",
		"example.com/app":          "v0.0.0-20260102030405-0123456789ab",
		"example.com/absent":       "",
	} {
		if got := Of(bi, path); got != want {
			t.Errorf("Of(%s) = %q, want %q", path, got, want)
		}
	}
}
