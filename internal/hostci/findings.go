package hostci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/pavedhq/paved/runner"
)

// Level is how much a finding matters, as CI hosts rank annotations.
type Level string

const (
	Error   Level = "error"
	Warning Level = "warning"
	Notice  Level = "notice"
)

// Finding is something a run found that a host can show next to a line.
type Finding struct {
	Level   Level
	Title   string
	Message string
	// File is relative to the run's source directory, slash-separated;
	// "" when nothing names one. Line and Col are 0 when unknown.
	File      string
	Line, Col int
}

// maxMessage bounds a finding's message: a host shows a few lines next to
// the code, and the whole output is in the log and the report.
const maxMessage = 2000

// Findings lists what rep found, in this order: failed steps, failed tests,
// go vet's diagnostics, staticcheck's and gosec's findings that no
// exception accepts (the lint step's SARIF), and the vulnerabilities in the
// scan's SARIF that have a place in the source (govulncheck's call sites).
// A SARIF file that cannot be read is an error; the other findings are
// still returned.
func Findings(rep *runner.Report) ([]Finding, error) {
	var fs []Finding
	for _, s := range rep.Steps {
		if s.Status == runner.Failed {
			fs = append(fs, Finding{Level: Error, Title: "paved: " + s.Name + " failed", Message: clip(s.Error)})
		}
	}
	if t := rep.Test; t != nil {
		for _, f := range t.Failures {
			title := f.Package + "." + f.Test + " failed"
			if f.Test == "" {
				title = f.Package + " failed"
			}
			fs = append(fs, Finding{Level: Error, Title: title, Message: clip(strings.TrimSpace(f.Output)), File: f.File, Line: f.Line})
		}
		for _, d := range t.Vet {
			fs = append(fs, VetFinding(d))
		}
	}
	if l := rep.Lint; l != nil && l.SARIF != "" {
		ls, err := sarifFindings("lint", l.SARIF, rep.Source.Dir)
		fs = append(fs, ls...)
		if err != nil {
			return fs, err
		}
	}
	if s := rep.Scan; s != nil && s.SARIF != "" {
		vs, err := sarifFindings("scan", s.SARIF, rep.Source.Dir)
		fs = append(fs, vs...)
		if err != nil {
			return fs, err
		}
	}
	return fs, nil
}

// vetLine is go vet's "file.go:line:col: message" (col optional).
var vetLine = regexp.MustCompile(`^(\S+\.go):(\d+)(?::(\d+))?: ((?s).*)$`)

// VetFinding reads one go vet diagnostic as the test step reports it
// (file relative to the source directory, continuation lines after the
// first). A diagnostic with no position is a finding with no file.
func VetFinding(diag string) Finding {
	f := Finding{Level: Error, Title: "go vet", Message: clip(diag)}
	m := vetLine.FindStringSubmatch(diag)
	if m == nil || filepath.IsAbs(m[1]) || strings.HasPrefix(filepath.ToSlash(filepath.Clean(m[1])), "../") {
		return f
	}
	line, err := strconv.Atoi(m[2])
	if err != nil || line <= 0 {
		return f
	}
	col, _ := strconv.Atoi(m[3])
	f.File, f.Line, f.Col, f.Message = filepath.ToSlash(filepath.Clean(m[1])), line, max(col, 0), clip(m[4])
	return f
}

// sarifLog is the part of SARIF 2.1.0 the annotations need.
type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name string `json:"name"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID  string `json:"ruleId"`
			Level   string `json:"level"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			Suppressions []json.RawMessage `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

// sarifFindings reads a step's SARIF file and returns the results that
// point at a line of a file in the source directory; an image's binaries
// (Trivy's locations) have none.
func sarifFindings(step, path, srcDir string) ([]Finding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the %s step's SARIF: %w", step, err)
	}
	fs, err := ParseSARIF(b)
	if err != nil {
		return nil, fmt.Errorf("reading the %s step's SARIF %s: %w", step, path, err)
	}
	out := fs[:0]
	for _, f := range fs {
		if fi, err := os.Stat(filepath.Join(srcDir, filepath.FromSlash(f.File))); err == nil && fi.Mode().IsRegular() {
			out = append(out, f)
		}
	}
	return out, nil
}

// ParseSARIF returns the unsuppressed results of a SARIF 2.1.0 log that
// name a relative file and a line; File is the artifact's URI path.
func ParseSARIF(b []byte) ([]Finding, error) {
	var log sarifLog
	if err := json.Unmarshal(b, &log); err != nil {
		return nil, err
	}
	var fs []Finding
	for _, run := range log.Runs {
		for _, r := range run.Results {
			if len(r.Suppressions) > 0 || len(r.Locations) == 0 {
				continue
			}
			loc := r.Locations[0].PhysicalLocation
			file := sarifPath(loc.ArtifactLocation.URI)
			if file == "" || loc.Region.StartLine <= 0 {
				continue
			}
			level := Notice
			switch r.Level {
			case "error":
				level = Error
			case "warning":
				level = Warning
			}
			title := strings.TrimSpace(run.Tool.Driver.Name + " " + r.RuleID)
			fs = append(fs, Finding{Level: level, Title: title, Message: clip(runner.RedactURL(r.Message.Text)),
				File: file, Line: loc.Region.StartLine, Col: max(loc.Region.StartColumn, 0)})
		}
	}
	return fs, nil
}

// sarifPath turns an artifact URI into a clean relative path, or "" for
// one that is absolute, has a scheme, or climbs out of its root.
func sarifPath(uri string) string {
	if uri == "" || strings.Contains(uri, ":") || strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, "?#\\") {
		return ""
	}
	p := uri
	if strings.Contains(p, "%") {
		var err error
		if p, err = unescapePath(p); err != nil {
			return ""
		}
	}
	p = filepath.ToSlash(filepath.Clean(p))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return ""
	}
	return p
}

func unescapePath(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil || n == 0 || n == '/' {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), nil
}

// clip bounds a message, keeping its start.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "\n[... truncated; the whole output is in the log and the run report]"
}
