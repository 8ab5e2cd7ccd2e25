package pipelines

import (
	"errors"
	"strings"
	"testing"
)

func TestPromoteConfig(t *testing.T) {
	for _, tc := range []struct {
		yaml, want, wantErr string
	}{
		{yaml: "promote:\n  overlayImage: app\n", want: "app"},
		{yaml: "promote:\n  overlayImage: ghcr.io/acme/api\n", want: "ghcr.io/acme/api"},
		{yaml: "promote:\n  overlayImage: api.image\n", want: "api.image"},
		{yaml: "promote: {}\n"},
		{yaml: "promote:\n  overlayImage: \"app v1\"\n", wantErr: "paved.yaml: promote.overlayImage"},
		{yaml: "promote:\n  overlayImage: -app\n", wantErr: "paved.yaml: promote.overlayImage"},
		{yaml: "promote:\n  overlay: app\n", wantErr: "paved.yaml: promote.overlay"},
	} {
		c, err := ParseConfig([]byte(tc.yaml))
		if tc.wantErr != "" {
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want a ConfigError naming %q", tc.yaml, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.Promote.OverlayImage != tc.want {
			t.Errorf("%q: overlayImage %q, %v; want %q", tc.yaml, c.Promote.OverlayImage, err, tc.want)
		}
	}
}
