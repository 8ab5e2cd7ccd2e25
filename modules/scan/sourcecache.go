package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	sariflog "github.com/pavedhq/paved/internal/sarif"
)

// The source cache keeps govulncheck's output for a module that imports no
// vulnerable package, so a later run whose result cannot differ reads it
// instead of loading, type-checking and call-graphing the module again.
//
// The rule is sound because govulncheck reports a vulnerable symbol only in
// a package the database lists as vulnerable at the version imported.
// When no such package is in the import closure, no edit to the code can
// reach a vulnerable symbol without changing the closure; and the
// module-level findings (a vulnerable module whose vulnerable packages are
// not imported) depend only on the modules of the imported packages. So
// the result is a function of: the import closure, with each package's
// module version and replacement; the Go version (the standard library's
// vulnerabilities); the build context (GOOS, GOARCH, cgo, tags and
// experiments choose the closure); the database; and govulncheck itself.
// The key digests exactly those. A result with any package-level or
// symbol-level finding is never kept: the next edit could call the
// vulnerable symbol.
//
// Anything that goes wrong computing the key or reading an entry runs
// govulncheck as if there were no cache.
const (
	sourceCacheDir     = "govulncheck" // under Options.LayerCacheDir
	sourceCacheFormat  = "paved source cache 1"
	maxSourceEntries   = 64
	maxSourceBytes     = 64 << 20
	sourceListTemplate = `{{.ImportPath}}{{with .Module}} {{.Path}} {{.Version}}{{with .Replace}} => {{.Path}} {{.Version}}{{end}}{{end}}`
)

// buildEnvVars are the go env variables that choose the packages, the files
// in them and the standard library's version.
var buildEnvVars = []string{"GOVERSION", "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOEXPERIMENT",
	"GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM", "GOWORK", "GOROOT"}

// scanSource runs govulncheck on the module in dir, or reads its result
// from the source cache in cacheDir ("" keeps none). reused says which; a
// warning says why an entry could not be kept.
func scanSource(ctx context.Context, dir string, db govulnDB, cacheDir string) (fs []Finding, reused bool, warns []string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, false, nil, err
	}
	var key *sourceKey
	if cacheDir != "" {
		if k, err := keySource(ctx, abs, db); err == nil {
			key = k
			if out, ok := k.load(cacheDir); ok {
				if fs, err := findingsOf(abs, out); err == nil {
					return fs, true, nil, nil
				}
			}
		}
	}
	out, err := execGovulncheck(ctx, abs, db)
	if err != nil {
		return nil, false, nil, err
	}
	fs, err = findingsOf(abs, out)
	if err != nil {
		return nil, false, nil, err
	}
	if key != nil && key.reusable(out) {
		if err := key.store(cacheDir, out); err != nil {
			warns = append(warns, "govulncheck cache: "+err.Error())
		}
	}
	return fs, false, warns, nil
}

// sourceKey is what a govulncheck result depends on when the module
// imports no vulnerable package.
type sourceKey struct {
	digest    string
	goVersion string // what govulncheck must report having used
}

// keySource lists the import closure and the build context of the module
// in abs with the go command, in govulncheck's environment, and digests
// them with the database's identity and govulncheck's version.
func keySource(ctx context.Context, abs string, db govulnDB) (*sourceKey, error) {
	scanner, err := scannerIdentity()
	if err != nil {
		return nil, err
	}
	dbID, err := db.identity()
	if err != nil {
		return nil, err
	}
	env := db.env()
	goEnv, err := goCommand(ctx, abs, env, append([]string{"env", "-json"}, buildEnvVars...)...)
	if err != nil {
		return nil, err
	}
	var vars map[string]string
	if err := json.Unmarshal(goEnv, &vars); err != nil || vars["GOVERSION"] == "" {
		return nil, fmt.Errorf("go env: no GOVERSION in %q", goEnv)
	}
	deps, err := goCommand(ctx, abs, env, "list", "-deps", "-f", sourceListTemplate, "./...")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(sourceCacheFormat), []byte(scanner),
		dbID, goEnv, deps} {
		fmt.Fprintf(h, "%d\n", len(part))
		h.Write(part)
	}
	return &sourceKey{digest: hex.EncodeToString(h.Sum(nil)), goVersion: vars["GOVERSION"]}, nil
}

// scannerIdentity names the govulncheck linked in: the versions of x/vuln
// and of x/tools (package loading, SSA, call graph), or, in a program built
// without them in its build information (a test), the executable itself.
func scannerIdentity() (string, error) {
	vuln, tools := sariflog.ModuleVersion("golang.org/x/vuln"), sariflog.ModuleVersion("golang.org/x/tools")
	if vuln != "" && tools != "" {
		return "golang.org/x/vuln " + vuln + ", golang.org/x/tools " + tools, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	info, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %d", exe, info.Size(), info.ModTime().UnixNano()), nil
}

func goCommand(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, lastLines(strings.TrimSpace(stderr.String()), 5))
	}
	return stdout.Bytes(), nil
}

// identity digests the database as govulncheck reads it. For a directory:
// the index files (db.json holds the last modification; modules.json each
// entry's) by content, and every entry's name, size and modification time.
// For the default database: its db.json as the probe read it.
func (db govulnDB) identity() ([]byte, error) {
	if db.dir == "" {
		if len(db.index) == 0 {
			return nil, errors.New("no index of the Go vulnerability database")
		}
		return slices.Concat([]byte(goVulnDBURL+"\n"), db.index), nil
	}
	h := sha256.New()
	for _, name := range []string{"db.json", "modules.json", "vulns.json"} {
		b, err := os.ReadFile(filepath.Join(db.dir, "index", name))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(b))
		h.Write(b)
	}
	ents, err := os.ReadDir(filepath.Join(db.dir, "ID"))
	if err != nil {
		return nil, err
	}
	for _, e := range ents { // sorted by name
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(h, "%s %d %d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return h.Sum(nil), nil
}

func (k *sourceKey) path(cacheDir string) string {
	return filepath.Join(cacheDir, k.digest+".json")
}

// load returns the output kept under the key, if any and if it is still
// one that may be reused.
func (k *sourceKey) load(cacheDir string) ([]byte, bool) {
	p := k.path(cacheDir)
	out, err := os.ReadFile(p)
	if err != nil || !k.reusable(out) {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // last use, for eviction
	return out, true
}

func (k *sourceKey) store(cacheDir string, out []byte) error {
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return err
	}
	if err := writeAtomic(k.path(cacheDir), out); err != nil {
		return err
	}
	return evictLRU(cacheDir, maxSourceEntries, maxSourceBytes)
}

// reusable reports whether govulncheck's output stands for any code with
// the same key: a symbol-level scan with the key's Go version that found
// no vulnerable package imported, let alone a vulnerable symbol called.
func (k *sourceKey) reusable(out []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(out))
	configured := false
	for {
		var m struct {
			Config *struct {
				GoVersion string `json:"go_version"`
				ScanLevel string `json:"scan_level"`
				ScanMode  string `json:"scan_mode"`
			} `json:"config"`
			Finding *vulnFinding `json:"finding"`
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return configured
		}
		if err != nil {
			return false
		}
		if c := m.Config; c != nil {
			if configured || c.GoVersion != k.goVersion || c.ScanLevel != "symbol" || c.ScanMode != "source" {
				return false
			}
			configured = true
		}
		if f := m.Finding; f != nil {
			// The trace's first frame is the vulnerable one: a package
			// there means it is imported, a function that it is called.
			if f.OSV == "" || len(f.Trace) == 0 || f.Trace[0] == nil || f.Trace[0].Module == "" ||
				f.Trace[0].Package != "" || f.Trace[0].Function != "" {
				return false
			}
		}
	}
}
