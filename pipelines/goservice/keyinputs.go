package goservice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/pavedhq/paved/runner"
)

// goEnvKeys are the variables that change what `go build` and `go test`
// produce, besides the toolchain's version and the files (hashed apart).
// Variables that only say where things are kept (GOPATH, GOCACHE,
// GOMODCACHE, GOTMPDIR) or how go talks to people (GOTELEMETRY) are left
// out: they change no result.
var goEnvKeys = []string{
	"GOTOOLCHAIN",    // which toolchain go switches to
	"GOROOT",         // which standard library and compiler
	"GOFLAGS",        // default flags: -tags, -mod, -race, -ldflags, -gcflags...
	"GOEXPERIMENT",   // language and runtime features compiled in
	"GODEBUG",        // go command and standard library behaviour, which tests observe
	"GOFIPS140",      // which FIPS 140 crypto module is linked
	"GOWORK",         // workspace mode (the go.work file is hashed apart)
	"GOOS", "GOARCH", // the test step's target (the build step sets them per platform)
	// Instruction set levels: the code generated for the target.
	"GOAMD64", "GOARM", "GOARM64", "GO386", "GOMIPS", "GOMIPS64", "GOPPC64", "GORISCV64", "GOWASM",
	// cgo and the C toolchain it calls. The steps default CGO_ENABLED to 0,
	// but what they hand to go may change; a stale hit costs more than a miss.
	"CGO_ENABLED", "CC", "CXX", "FC", "AR", "PKG_CONFIG",
	"CGO_CFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_FFLAGS", "CGO_LDFLAGS", "GO_EXTLINK_ENABLED",
	// Where modules come from and whether they are checked: go.sum pins
	// what it lists, but a module it lacks resolves through these.
	"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE",
}

// EnvKey adds the named variables to k. Values are hashed one by one,
// so a token in GOPROXY or a secret a test reads never appears in the key
// material; set-but-empty and unset differ.
func EnvKey(k *runner.KeyBuilder, prefix string, names []string) {
	for _, name := range names {
		v, ok := os.LookupEnv(name)
		h := "unset"
		if ok {
			sum := sha256.Sum256([]byte(v))
			h = "sha256:" + hex.EncodeToString(sum[:])
		}
		k.String(prefix+name, h)
	}
}

// goEnvFile adds the settings `go env -w` wrote, which change builds as
// the variables do.
func goEnvFile(k *runner.KeyBuilder) error {
	p := os.Getenv("GOENV")
	if p == "off" {
		return nil
	}
	if p == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return nil // go finds none either
		}
		p = filepath.Join(dir, "go", "env")
	}
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading go env file %s: %w", p, err)
	}
	sum := sha256.Sum256(b)
	k.String("goenv", hex.EncodeToString(sum[:]))
	return nil
}

// moduleInputs adds what builds the module in dir besides its own files
// (under root, hashed by the caller): the workspace go runs in (its go.work
// and go.work.sum, the modules it uses) and the local directories that
// replace directives point to, hashed with the same rules as the module.
// Directories are named relative to root, so the key does not depend on
// where the checkout lives.
func moduleInputs(k *runner.KeyBuilder, dir, root string) error {
	modDirs := []string{root}
	var extra []string // directories to hash, absolute
	work, err := workFile(dir)
	if err != nil {
		return err
	}
	if work != "" {
		b, err := os.ReadFile(work)
		if err != nil {
			return fmt.Errorf("reading workspace %s: %w", work, err)
		}
		k.String("go.work:"+relTo(root, work), string(b))
		sum, err := os.ReadFile(work + ".sum")
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("reading %s.sum: %w", work, err)
		}
		k.String("go.work.sum", string(sum))
		wf, err := modfile.ParseWork(work, b, nil)
		if err != nil {
			// go fails on it as well; the content above is the key.
			k.String("go.work:invalid", err.Error())
		} else {
			base := filepath.Dir(work)
			for _, u := range wf.Use {
				d := abs(base, u.Path)
				modDirs = append(modDirs, d)
				extra = append(extra, d)
			}
			for _, r := range wf.Replace {
				if modfile.IsDirectoryPath(r.New.Path) {
					extra = append(extra, abs(base, r.New.Path))
				}
			}
		}
	}
	for _, m := range modDirs {
		gomod := filepath.Join(m, "go.mod")
		b, err := os.ReadFile(gomod)
		if err != nil {
			continue // a missing used module: go says so, and the go.work is keyed
		}
		f, err := modfile.Parse(gomod, b, nil)
		if err != nil {
			continue // go fails on it; its content is keyed with its module
		}
		for _, r := range f.Replace {
			if r.New.Version == "" && modfile.IsDirectoryPath(r.New.Path) {
				extra = append(extra, abs(m, r.New.Path))
			}
		}
	}
	seen := map[string]bool{}
	sort.Strings(extra)
	for _, d := range extra {
		rel := relTo(root, d)
		if seen[d] || !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
			continue // already hashed, with the module's files
		}
		seen[d] = true
		if info, err := os.Stat(d); err != nil || !info.IsDir() {
			k.String("missing", rel) // go reports it; a later fix changes the key
			continue
		}
		if err := k.Dir(rel, d, skipSource); err != nil {
			return fmt.Errorf("hashing %s: %w", d, err)
		}
	}
	return nil
}

// workFile is the go.work that go uses in dir: $GOWORK, or the first one
// found from dir up; "" when none or GOWORK=off.
func workFile(dir string) (string, error) {
	switch w := os.Getenv("GOWORK"); w {
	case "off":
		return "", nil
	case "":
	default:
		return abs(dir, w), nil
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(d, "go.work")
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

func abs(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func relTo(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}
