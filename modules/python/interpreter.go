package python

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// EnvPython names the interpreter paved runs pip and pytest with, when set.
const EnvPython = "PAVED_PYTHON"

// Interpreter is the Python that installs the dependencies and runs the
// tests: its version should be the image base's.
type Interpreter struct {
	Path string // an executable, looked up on PATH when it has no slash
}

// DefaultInterpreter is $PAVED_PYTHON, else python3.
func DefaultInterpreter() Interpreter {
	if p := os.Getenv(EnvPython); p != "" {
		return Interpreter{Path: p}
	}
	return Interpreter{Path: "python3"}
}

// Info is what a step's key needs to know about the interpreter.
type Info struct {
	Path           string   `json:"path"` // resolved executable
	Version        string   `json:"version"`
	Implementation string   `json:"implementation"`
	Machine        string   `json:"machine"`           // platform.machine(): x86_64, aarch64
	Executable     string   `json:"executable"`        // sys.executable: the real program behind a shim
	Stdlib         string   `json:"stdlib"`            // the standard library's directory
	Modules        []string `json:"modules,omitempty"` // the asked-for modules that are missing
}

const describeScript = `
import sys, platform, json, importlib.util, sysconfig
missing = [m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]
print(json.dumps({"version": platform.python_version(), "implementation": sys.implementation.name,
                  "machine": platform.machine(), "executable": sys.executable,
                  "stdlib": sysconfig.get_paths()["stdlib"], "modules": missing}))
`

// Describe runs the interpreter once to read its version and machine, and
// which of modules it cannot import.
func (i Interpreter) Describe(ctx context.Context, modules ...string) (Info, error) {
	path, err := exec.LookPath(i.Path)
	if err != nil {
		return Info{}, fmt.Errorf("python interpreter %q not found (set %s to one): %w", i.Path, EnvPython, err)
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"-I", "-c", describeScript}, modules...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return Info{}, ctx.Err()
		}
		return Info{}, fmt.Errorf("running %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		return Info{}, fmt.Errorf("reading what %s says about itself: %w", path, err)
	}
	info.Path = path
	return info, nil
}

// MissingModulesError says the interpreter lacks tools paved runs.
type MissingModulesError struct {
	Python  string
	Modules []string
}

func (e *MissingModulesError) Error() string {
	return fmt.Sprintf("%s cannot import %s: install them for that interpreter (Debian: python3-pytest python3-pytest-cov python3-pip), or point %s at one that has them",
		e.Python, strings.Join(e.Modules, ", "), EnvPython)
}

// require describes the interpreter and fails unless it has modules.
func (i Interpreter) require(ctx context.Context, modules ...string) (Info, error) {
	info, err := i.Describe(ctx, modules...)
	if err != nil {
		return Info{}, err
	}
	if len(info.Modules) > 0 {
		return info, &MissingModulesError{Python: info.Path, Modules: info.Modules}
	}
	return info, nil
}
