package build

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// RuntimeConfig is how the image runs, over paved's defaults (user
// 65532:65532, working directory /, PATH and SSL_CERT_FILE set).
type RuntimeConfig struct {
	Env        []string          `json:"env,omitempty"`    // KEY=VALUE, set over the base's
	Ports      []string          `json:"ports,omitempty"`  // exposed: 8080, 8080/tcp, 53/udp
	Labels     map[string]string `json:"labels,omitempty"` // image config labels; annotations paved sets win
	User       string            `json:"user,omitempty"`   // uid[:gid] or a name the base knows
	WorkingDir string            `json:"workdir,omitempty"`
}

var (
	envKey  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userRef = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$`)
)

// Validate names the first field that is wrong.
func (c RuntimeConfig) Validate() error {
	for i, kv := range c.Env {
		if err := ValidEnv(kv); err != nil {
			return fmt.Errorf("env[%d]: %w", i, err)
		}
	}
	for i, p := range c.Ports {
		if _, err := ParsePort(p); err != nil {
			return fmt.Errorf("ports[%d]: %w", i, err)
		}
	}
	for k := range c.Labels {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("labels: an empty key")
		}
	}
	if c.User != "" && !userRef.MatchString(c.User) {
		return fmt.Errorf("user: %q: want uid[:gid] or name[:group], such as 65532:65532", c.User)
	}
	if w := c.WorkingDir; w != "" && (!path.IsAbs(w) || strings.ContainsRune(w, 0)) {
		return fmt.Errorf("workdir: %q: want an absolute path in the image", w)
	}
	return nil
}

// ValidEnv checks one KEY=VALUE.
func ValidEnv(kv string) error {
	k, _, ok := strings.Cut(kv, "=")
	if !ok {
		return fmt.Errorf("%q: want KEY=VALUE", k)
	}
	if !envKey.MatchString(k) {
		return fmt.Errorf("%q is not a variable name (letters, digits and _)", k)
	}
	if strings.ContainsRune(kv, 0) {
		return fmt.Errorf("%s: the value holds a NUL", k)
	}
	return nil
}

// ParsePort reads 8080, 8080/tcp or 53/udp and returns the image config's
// spelling (8080/tcp).
func ParsePort(s string) (string, error) {
	num, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	n, err := strconv.ParseUint(num, 10, 16)
	if err != nil || n == 0 || num != strconv.FormatUint(n, 10) {
		return "", fmt.Errorf("%q: want a port from 1 to 65535, optionally /tcp, /udp or /sctp", s)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return "", fmt.Errorf("%q: protocol %q: want tcp, udp or sctp", s, proto)
	}
	return num + "/" + proto, nil
}

// apply sets c over the image config. Labels go in sorted; Go's JSON
// encoding sorts map keys, so the config's bytes do not depend on order.
func (c RuntimeConfig) apply(cfg *v1.Config) {
	for _, kv := range c.Env {
		cfg.Env = setEnv(cfg.Env, kv)
	}
	for _, p := range c.Ports {
		s, err := ParsePort(p)
		if err != nil {
			continue // Validate reported it
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		cfg.ExposedPorts[s] = struct{}{}
	}
	for k, v := range c.Labels {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	if c.User != "" {
		cfg.User = c.User
	}
	if c.WorkingDir != "" {
		cfg.WorkingDir = c.WorkingDir
	}
}

// setEnv sets KEY=VALUE in env, in place of the key's earlier value.
func setEnv(env []string, kv string) []string {
	key, _, _ := strings.Cut(kv, "=")
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k != key {
			out = append(out, e)
		}
	}
	return append(out, kv)
}
