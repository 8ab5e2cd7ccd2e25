package pipelines

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pavedhq/paved/modules/build"
)

// ImageSettings are paved.yaml's fields for what goes into the image
// besides the binaries, and how it runs.
type ImageSettings struct {
	// Files puts files of the service into the image, beside the main
	// packages' kodata/ directories (which need no setting).
	Files []FileConfig `yaml:"files"`
	// Ldflags are linker flags, Go templates over {{.Version}},
	// {{.Commit}}, {{.ShortCommit}}, {{.Date}} and {{.Env.NAME}}; they
	// replace the -X main.version default.
	Ldflags   []string        `yaml:"ldflags"`
	Container ContainerConfig `yaml:"container"`
}

// FileConfig is one entry of files:.
type FileConfig struct {
	Src  string   `yaml:"src"`  // glob relative to the service
	Dst  string   `yaml:"dst"`  // absolute path in the image; a trailing / makes it a directory
	Mode FileMode `yaml:"mode"` // octal, as chmod takes it; default 0644, 0755 for an executable
}

// FileMode is a permission mode written in octal, with or without a
// leading 0 or 0o (0644, 644 and 0o644 are the same), as chmod reads it
// whatever YAML would make of the number.
type FileMode fs.FileMode

func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: files[].mode: want an octal mode such as 0644", n.Line)
	}
	s := strings.TrimPrefix(strings.TrimPrefix(n.Value, "0o"), "0O")
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 {
		return fmt.Errorf("line %d: files[].mode %q: want an octal mode from 0 to 0777, such as 0644", n.Line, n.Value)
	}
	*m = FileMode(v)
	return nil
}

// ContainerConfig is how the image runs.
type ContainerConfig struct {
	Env     map[string]string `yaml:"env"`     // set in the image: never a secret
	Ports   []string          `yaml:"ports"`   // exposed: 8080, 8080/tcp, 53/udp
	Labels  map[string]string `yaml:"labels"`  // image config labels
	User    string            `yaml:"user"`    // uid[:gid] or name[:group]; default 65532:65532
	Workdir string            `yaml:"workdir"` // absolute; default /
}

func (s ImageSettings) validate() error {
	for i, f := range s.Files {
		if err := build.ValidFile(f.File()); err != nil {
			field, msg, _ := strings.Cut(err.Error(), ": ")
			return &ConfigError{Field: fmt.Sprintf("%s: files[%d].%s", ConfigFile, i, field), Msg: msg}
		}
	}
	if err := build.ParseLdflags(s.Ldflags); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		return &ConfigError{Field: ConfigFile + ": " + field, Msg: msg}
	}
	if err := s.Container.Runtime().Validate(); err != nil {
		field, msg, _ := strings.Cut(err.Error(), ": ")
		if strings.HasPrefix(field, "env[") {
			field = "env" // a map in paved.yaml: the message names the key
		}
		return &ConfigError{Field: ConfigFile + ": container." + field, Msg: msg}
	}
	return nil
}

// File is the build module's form of f.
func (f FileConfig) File() build.FileGlob {
	return build.FileGlob{Source: f.Src, Dest: f.Dst, Mode: fs.FileMode(f.Mode)}
}

// Runtime is the build module's form of c, env sorted by name so the
// image config does not depend on map order.
func (c ContainerConfig) Runtime() build.RuntimeConfig {
	rc := build.RuntimeConfig{Ports: c.Ports, Labels: c.Labels, User: c.User, WorkingDir: c.Workdir}
	names := make([]string, 0, len(c.Env))
	for k := range c.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		rc.Env = append(rc.Env, k+"="+c.Env[k])
	}
	return rc
}
