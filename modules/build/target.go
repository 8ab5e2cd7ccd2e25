package build

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Target is where an image index is published: a RegistryTarget or a
// LayoutTarget.
type Target interface {
	String() string
}

// RegistryTarget publishes to a repository of a registry.
type RegistryTarget struct {
	Repo name.Repository
}

func (t RegistryTarget) String() string { return t.Repo.String() }

// LayoutTarget publishes to an OCI image layout directory.
type LayoutTarget struct {
	Dir string
}

func (t LayoutTarget) String() string { return "oci:" + t.Dir }

var (
	_ Target = RegistryTarget{}
	_ Target = LayoutTarget{}
)

// ParseTarget reads a target the way users write it: "oci:DIR" for an OCI
// image layout, otherwise a registry repository such as
// "registry.example.com/team/svc". Tags are given to Publish, so a tag or
// digest in the target is an error.
func ParseTarget(s string) (Target, error) {
	if dir, ok := strings.CutPrefix(s, "oci:"); ok {
		if dir == "" {
			return nil, fmt.Errorf("target %q: missing layout directory after oci:", s)
		}
		if strings.Contains(dir, "@") {
			return nil, fmt.Errorf("target %q: a layout target is a directory, without @digest", s)
		}
		return LayoutTarget{Dir: filepath.Clean(dir)}, nil
	}
	if strings.Contains(s, "@") {
		return nil, fmt.Errorf("target %q names a digest; give a repository such as %q", s, s[:strings.Index(s, "@")])
	}
	last := s[strings.LastIndex(s, "/")+1:]
	if i := strings.Index(last, ":"); i >= 0 {
		return nil, fmt.Errorf("target %q names a tag; give a repository such as %q and pass the tag separately", s, s[:len(s)-len(last)+i])
	}
	repo, err := name.NewRepository(s)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", s, err)
	}
	// The full name (with an implied "library/") must be valid too, or
	// pushing to it fails later.
	if _, err := name.NewRepository(repo.Name()); err != nil {
		return nil, fmt.Errorf("target %q: %w", s, err)
	}
	return RegistryTarget{Repo: repo}, nil
}
