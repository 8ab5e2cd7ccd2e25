package scan

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vulnscan "golang.org/x/vuln/scan"
)

// govulnDB says where govulncheck reads vulnerabilities: a v1 database
// directory, or "" for its default (vuln.go.dev).
type govulnDB struct {
	dir     string
	offline bool // keep the go command off the network too
}

// goVulnDBURL is govulncheck's default database.
const goVulnDBURL = "https://vuln.go.dev"

// probeGoVulnDB checks that govulncheck's default database answers before
// the scan relies on it, so an unreachable database is told apart from a
// scan that fails.
func probeGoVulnDB(ctx context.Context) error {
	u := goVulnDBURL + "/index/db.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return &unavailableError{fmt.Sprintf("no Go vulnerability database: %s: %v", goVulnDBURL, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &unavailableError{fmt.Sprintf("no Go vulnerability database: %s: %s", u, resp.Status)}
	}
	return nil
}

// env is the environment govulncheck runs in.
func (db govulnDB) env() []string {
	// The program as shipped: modules/build compiles with cgo off. It also
	// spares loading the packages the cgo preprocessing (and gcc) that an
	// empty Go build cache would otherwise pay for.
	env := append(os.Environ(), "CGO_ENABLED=0")
	if db.offline {
		// Loading packages runs the go command, which would fetch missing
		// modules or a newer toolchain.
		env = append(env, "GOPROXY=off", "GOTOOLCHAIN=local")
	}
	return env
}

// execGovulncheck runs govulncheck on the module in abs at a scan level
// (package or symbol) and returns its JSON output.
func execGovulncheck(ctx context.Context, abs string, db govulnDB, level string) ([]byte, error) {
	args := []string{"-C", abs, "-format", "json", "-scan", level}
	if db.dir != "" {
		d, err := filepath.Abs(db.dir)
		if err != nil {
			return nil, err
		}
		args = append(args, "-db", (&url.URL{Scheme: "file", Path: filepath.ToSlash(d)}).String())
	}
	args = append(args, "./...")

	var stdout, stderr bytes.Buffer
	cmd := vulnscan.Command(ctx, args...)
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.Env = db.env()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("govulncheck %s: %w", abs, err)
	}
	if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, lastLines(msg, 10))
		}
		return nil, fmt.Errorf("govulncheck %s: %w", abs, err)
	}
	return stdout.Bytes(), nil
}

// findingsOf reads govulncheck's JSON output over the module in abs.
func findingsOf(abs string, out []byte) ([]Finding, error) {
	fs, err := parseGovulncheck(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("govulncheck %s: %w", abs, err)
	}
	for i := range fs {
		fs[i].Location = relLocation(abs, fs[i].Location)
	}
	return fs, nil
}

// The parts of govulncheck's JSON protocol (a stream of messages, each
// one of config, progress, SBOM, osv or finding) that a report needs.
type (
	vulnMessage struct {
		OSV     *vulnOSV     `json:"osv"`
		Finding *vulnFinding `json:"finding"`
	}
	vulnOSV struct {
		ID               string   `json:"id"`
		Aliases          []string `json:"aliases"`
		Summary          string   `json:"summary"`
		Details          string   `json:"details"`
		DatabaseSpecific *struct {
			URL string `json:"url"`
		} `json:"database_specific"`
	}
	vulnFinding struct {
		OSV          string       `json:"osv"`
		FixedVersion string       `json:"fixed_version"`
		Trace        []*vulnFrame `json:"trace"`
	}
	vulnFrame struct {
		Module   string `json:"module"`
		Version  string `json:"version"`
		Package  string `json:"package"`
		Function string `json:"function"`
		Position *struct {
			Filename string `json:"filename"`
			Line     int    `json:"line"`
		} `json:"position"`
	}
)

// parseGovulncheck reads govulncheck's JSON output. govulncheck reports a
// vulnerability at the most precise level it reaches (module required,
// package imported, symbol called); the levels of one vulnerability in one
// module become one Finding, Reachable when a vulnerable symbol is called.
// Severity is UNKNOWN: the Go database carries none.
func parseGovulncheck(r io.Reader) ([]Finding, error) {
	dec := json.NewDecoder(r)
	osvs := map[string]*vulnOSV{}
	type key struct{ osv, module, version string }
	found := map[key]*Finding{}
	var order []key
	for {
		var m vulnMessage
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading govulncheck JSON: %w", err)
		}
		if m.OSV != nil && m.OSV.ID != "" {
			osvs[m.OSV.ID] = m.OSV
		}
		vf := m.Finding
		if vf == nil {
			continue
		}
		if vf.OSV == "" || len(vf.Trace) == 0 || vf.Trace[0] == nil || vf.Trace[0].Module == "" {
			return nil, fmt.Errorf("reading govulncheck JSON: finding %q has no module", vf.OSV)
		}
		top := vf.Trace[0]
		k := key{vf.OSV, top.Module, top.Version}
		f, ok := found[k]
		if !ok {
			no := false
			f = &Finding{
				ID:           vf.OSV,
				Package:      top.Module,
				Version:      top.Version,
				FixedVersion: vf.FixedVersion,
				Scanner:      Govulncheck,
				Target:       TargetSource,
				Reachable:    &no,
			}
			found[k] = f
			order = append(order, k)
		}
		f.FixedVersion = cmp.Or(f.FixedVersion, vf.FixedVersion)
		if top.Function != "" && !*f.Reachable {
			yes := true
			f.Reachable = &yes
			f.Location = callSite(vf.Trace)
		}
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		f := *found[k]
		f.Severity = "UNKNOWN"
		f.URL = "https://pkg.go.dev/vuln/" + f.ID
		if o := osvs[f.ID]; o != nil {
			f.Aliases = slices.Clone(o.Aliases)
			f.Title = cmp.Or(o.Summary, firstLine(o.Details))
			if o.DatabaseSpecific != nil && o.DatabaseSpecific.URL != "" {
				f.URL = o.DatabaseSpecific.URL
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// callSite is the position of the outermost frame of a call trace that has
// one: the line in the scanned module that leads to the vulnerable symbol.
func callSite(trace []*vulnFrame) string {
	for i := len(trace) - 1; i >= 0; i-- {
		if fr := trace[i]; fr != nil && fr.Position != nil && fr.Position.Filename != "" {
			return fr.Position.Filename + ":" + strconv.Itoa(fr.Position.Line)
		}
	}
	return ""
}

// relLocation makes a file:line location relative to the module root, so
// reports do not carry the machine's paths.
func relLocation(root, loc string) string {
	i := strings.LastIndex(loc, ":")
	if i < 0 || !filepath.IsAbs(loc[:i]) {
		return loc
	}
	file, line := loc[:i], loc[i+1:]
	if rel, err := filepath.Rel(root, file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel) + ":" + line
	}
	return loc
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
