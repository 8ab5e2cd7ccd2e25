package pipelines

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ParsePlatform reads os/arch[/variant], as Go can cross-compile it.
func ParsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant, such as linux/arm64", s)
	}
	if parts[0] != "linux" {
		return v1.Platform{}, fmt.Errorf("platform %q: only linux images are supported", s)
	}
	if !goArch[parts[1]] {
		return v1.Platform{}, fmt.Errorf("platform %q: unknown architecture %q", s, parts[1])
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// ParsePlatforms reads a comma-separated list; duplicates are an error.
func ParsePlatforms(list []string) ([]v1.Platform, error) {
	var out []v1.Platform
	seen := map[string]bool{}
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			p, err := ParsePlatform(s)
			if err != nil {
				return nil, err
			}
			if seen[p.String()] {
				return nil, fmt.Errorf("platform %q is listed twice", p.String())
			}
			seen[p.String()] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// goArch lists the architectures Go builds linux binaries for.
var goArch = map[string]bool{
	"386": true, "amd64": true, "arm": true, "arm64": true, "loong64": true, "mips": true, "mipsle": true,
	"mips64": true, "mips64le": true, "ppc64": true, "ppc64le": true, "riscv64": true, "s390x": true,
}
