package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/pavedhq/paved/internal/goflags"
)

// Options describe one Go service build. Zero values get defaults.
type Options struct {
	Dir  string // directory of the service (inside a Go module)
	Main string // main package, relative to Dir; default "."
	Name string // binary name; default: last element of the main package's import path
	// Binaries puts several programs in one image, each in its own layer
	// under /app, in this order; Main and Name are then unused.
	Binaries []Binary
	// Entrypoint names the binary the image runs; default the first.
	Entrypoint string
	// Toolchain, such as "go1.26.8", lays that Go toolchain under
	// /usr/local/go in each platform's image (see GoToolchain).
	Toolchain   string
	Platforms   []v1.Platform     // default linux/amd64 and linux/arm64
	Base        Base              // default Minimal()
	Created     time.Time         // every timestamp in the image; zero means the Unix epoch
	Version     string            // linked as main.version when not empty
	Annotations map[string]string // extra OCI annotations on the index and each manifest
	Env         []string          // extra environment for go build; CGO_ENABLED=0 unless set here
	// Files puts files of the service into the image, in one layer below
	// the binaries with the main packages' kodata/ (see StaticFiles).
	Files []FileGlob
	// Ldflags are more linker flags (rendered: see RenderLdflags), after
	// -s -w. When set they replace the -X main.version=Version default.
	Ldflags []string
	// Config is how the image runs, over paved's defaults.
	Config RuntimeConfig
	// HostLast compiles the host's platform after the others. A go test
	// running beside the build (modules/test compiles with the same flags)
	// then compiles the host's dependencies once, for both, instead of
	// twice at the same time; with Go's build cache empty that is a third
	// of the work.
	HostLast bool

	kodata  bool     // a kodata/ directory is laid: set KO_DATA_PATH
	goFlags []string // build flags shared with go test (see goflags)
}

// Binary is one program of an image.
type Binary struct {
	Main string `json:"main"`           // main package, relative to Options.Dir
	Name string `json:"name,omitempty"` // default: last element of its import path
}

// DefaultPlatforms are built when Options.Platforms is empty.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// withDefaults fills in defaults. Created is truncated to seconds because
// the tar headers and the created annotation can't carry more.
func (o Options) withDefaults(ctx context.Context) (Options, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Main == "" {
		o.Main = "."
	}
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if o.Base == nil {
		o.Base = Minimal()
	}
	if o.Created.IsZero() {
		o.Created = epoch
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	if o.Toolchain != "" {
		if err := ValidToolchain(o.Toolchain); err != nil {
			return o, err
		}
	}
	if err := o.Config.Validate(); err != nil {
		return o, err
	}
	for i, f := range o.Files {
		if err := ValidFile(f); err != nil {
			return o, fmt.Errorf("files[%d]: %w", i, err)
		}
	}
	if len(o.Binaries) == 0 {
		o.Binaries = []Binary{{Main: o.Main, Name: o.Name}}
	}
	o.Binaries = append([]Binary(nil), o.Binaries...)
	seen := map[string]bool{}
	for i, b := range o.Binaries {
		if b.Main == "" {
			return o, fmt.Errorf("binary %d: no main package", i+1)
		}
		if b.Name == "" {
			n, err := binaryName(ctx, o, b.Main)
			if err != nil {
				return o, err
			}
			b.Name = n
		}
		if b.Name == "." || b.Name == ".." || strings.ContainsAny(b.Name, `/\`) {
			return o, fmt.Errorf("invalid binary name %q", b.Name)
		}
		if seen[b.Name] {
			return o, fmt.Errorf("two binaries are named %q", b.Name)
		}
		seen[b.Name] = true
		o.Binaries[i] = b
	}
	if o.Entrypoint == "" {
		o.Entrypoint = o.Binaries[0].Name
	}
	if !seen[o.Entrypoint] {
		return o, fmt.Errorf("entrypoint %q is none of the binaries (%s)", o.Entrypoint, strings.Join(names(o.Binaries), ", "))
	}
	o.Main, o.Name = o.Binaries[0].Main, o.Binaries[0].Name
	flags, err := goflags.Lookup(ctx, o.Dir, goEnv(o.Env))
	if err != nil {
		return o, err
	}
	o.goFlags = flags
	return o, nil
}

func names(bs []Binary) []string {
	n := make([]string, len(bs))
	for i, b := range bs {
		n[i] = b.Name
	}
	return n
}

var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// binaryName asks the go command for the main package's import path, so the
// name is the same one `go install` would use (a /vN suffix is skipped).
func binaryName(ctx context.Context, o Options, main string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}", pkgArg(main))
	cmd.Dir = o.Dir
	cmd.Env = goEnv(o.Env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list %s in %s: %w: %s", main, o.Dir, err, strings.TrimSpace(stderr.String()))
	}
	ip := strings.TrimSpace(string(out))
	elem := path.Base(ip)
	if majorVersion.MatchString(elem) && path.Dir(ip) != "." {
		elem = path.Base(path.Dir(ip))
	}
	return elem, nil
}

// pkgArg makes Main a relative package pattern for the go command.
func pkgArg(main string) string {
	main = filepath.ToSlash(main)
	if main == "." || strings.HasPrefix(main, "./") || strings.HasPrefix(main, "../") {
		return main
	}
	return "./" + main
}

// goEnv is the environment of every go invocation: the process environment,
// CGO disabled (a static binary runs on any base), then the caller's extras.
func goEnv(extra []string) []string {
	env := append(os.Environ(), "CGO_ENABLED=0")
	return append(env, extra...)
}

// platformEnv selects the target of a cross-compile; the platform wins over
// anything in the environment.
func platformEnv(p v1.Platform) []string {
	env := []string{"GOOS=" + p.OS, "GOARCH=" + p.Architecture}
	v := strings.TrimPrefix(p.Variant, "v")
	switch {
	case p.Variant == "":
	case p.Architecture == "arm":
		env = append(env, "GOARM="+v)
	case p.Architecture == "amd64":
		env = append(env, "GOAMD64="+p.Variant)
	case p.Architecture == "arm64":
		env = append(env, "GOARM64="+p.Variant+".0")
	}
	return env
}

// compile builds the main package b for p into dir and returns the binary path.
func compile(ctx context.Context, o Options, b Binary, p v1.Platform, dir string) (string, error) {
	out := filepath.Join(dir, b.Name)
	ldflags := "-s -w"
	if len(o.Ldflags) > 0 {
		ldflags += " " + strings.Join(o.Ldflags, " ")
	} else if o.Version != "" {
		x, err := quoteFlag("main.version=" + o.Version)
		if err != nil {
			return "", err
		}
		ldflags += " -X " + x
	}
	args := append([]string{"build"}, o.goFlags...)
	args = append(args, "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkgArg(b.Main))
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = o.Dir
	cmd.Env = append(goEnv(o.Env), platformEnv(p)...)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s for %s in %s: %w\n%s", b.Main, p.String(), o.Dir, err, strings.TrimSpace(output.String()))
	}
	return out, nil
}

// quoteFlag quotes a value for the go command's flag splitting, which
// honours single and double quotes (without escapes), so a version with spaces
// stays one -X argument.
func quoteFlag(s string) (string, error) {
	switch {
	case !strings.ContainsAny(s, " \t\n\r'\""):
		return s, nil
	case !strings.Contains(s, "'"):
		return "'" + s + "'", nil
	case !strings.Contains(s, `"`):
		return `"` + s + `"`, nil
	}
	return "", fmt.Errorf("version %q: cannot hold both single and double quotes", s)
}
