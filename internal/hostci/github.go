package hostci

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pavedhq/paved/runner"
)

func init() {
	register(runner.GitHubActions{}.Name(), func(rc runner.RunContext, env Env) Host {
		return &GitHub{
			Output:    env.Getenv("GITHUB_OUTPUT"),
			Summary:   env.Getenv("GITHUB_STEP_SUMMARY"),
			Workspace: env.Getenv("GITHUB_WORKSPACE"),
			Log:       env.Log,
		}
	})
}

// GitHub writes a run's outcome the way GitHub Actions reads it: step
// outputs in $GITHUB_OUTPUT, a Markdown summary in $GITHUB_STEP_SUMMARY,
// and annotations and log groups as workflow commands in the log.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
type GitHub struct {
	Output  string // the $GITHUB_OUTPUT file; "" writes no outputs
	Summary string // the $GITHUB_STEP_SUMMARY file; "" writes no summary
	// Workspace is $GITHUB_WORKSPACE, the checkout annotations' file
	// names are relative to.
	Workspace string
	Log       io.Writer
}

var (
	_ Host          = (*GitHub)(nil)
	_ runner.Folder = (*GitHub)(nil)
)

// maxAnnotations bounds the annotations one run writes; GitHub shows at
// most 10 errors and 10 warnings per step and 50 per job.
const maxAnnotations = 50

// Output names, as the action declares them.
const (
	OutputDigest = "digest" // the image's digest, sha256:...
	OutputImage  = "image"  // the image reference, REPO@sha256:...
	OutputReport = "report" // the run report's path
	OutputStatus = "status" // succeeded or failed
)

// Write writes the outputs, the summary and the annotations; an output or
// summary file that cannot be written is an error, since the steps after
// this one read them.
func (g *GitHub) Write(_ context.Context, rep *runner.Report, reportPath string) error {
	var errs []error
	if g.Output != "" {
		errs = append(errs, appendFile(g.Output, g.outputs(rep, reportPath)))
	}
	fs, ferr := Findings(rep)
	if ferr != nil {
		fmt.Fprintf(g.Log, "paved: warning: %v\n", ferr)
	}
	if g.Summary != "" {
		errs = append(errs, appendFile(g.Summary, g.summary(rep, reportPath, fs)))
	}
	g.annotate(rep, fs)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("GitHub Actions: %w", err)
	}
	return nil
}

func (g *GitHub) outputs(rep *runner.Report, reportPath string) []byte {
	var b strings.Builder
	digest, image := "", ""
	if rep.Image != nil {
		digest, image = rep.Image.Digest, rep.Image.Ref
	}
	for _, kv := range [][2]string{{OutputDigest, digest}, {OutputImage, image}, {OutputReport, reportPath}, {OutputStatus, string(rep.Status)}} {
		writeOutput(&b, kv[0], kv[1])
	}
	return []byte(b.String())
}

// writeOutput writes name=value, or a heredoc with a delimiter the value
// cannot hold when it spans lines.
func writeOutput(b *strings.Builder, name, value string) {
	if !strings.ContainsAny(value, "\r\n") {
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	delim := "paved_" + nonce()
	for strings.Contains(value, delim) {
		delim = "paved_" + nonce()
	}
	fmt.Fprintf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
}

// annotate writes one workflow command per finding, errors first.
func (g *GitHub) annotate(rep *runner.Report, fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return levelRank(a.Level) - levelRank(b.Level) })
	for i, f := range fs {
		if i == maxAnnotations {
			fmt.Fprintf(g.Log, "::warning title=paved::%s\n", EscapeData(fmt.Sprintf("%d more findings are in the run report", len(fs)-i)))
			return
		}
		var props []string
		if file := g.file(rep.Source.Dir, f.File); file != "" {
			props = append(props, "file="+EscapeProperty(file))
			if f.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", f.Line))
				if f.Col > 0 {
					props = append(props, fmt.Sprintf("col=%d", f.Col))
				}
			}
		}
		if f.Title != "" {
			props = append(props, "title="+EscapeProperty(f.Title))
		}
		cmd := "::" + string(f.Level)
		if len(props) > 0 {
			cmd += " " + strings.Join(props, ",")
		}
		fmt.Fprintf(g.Log, "%s::%s\n", cmd, EscapeData(f.Message))
	}
}

// file is a source-relative file as the workspace names it; "" when it
// lies outside the workspace.
func (g *GitHub) file(srcDir, rel string) string {
	if rel == "" {
		return ""
	}
	if g.Workspace == "" {
		return rel
	}
	p, ok := within(g.Workspace, filepath.Join(srcDir, filepath.FromSlash(rel)))
	if !ok {
		return ""
	}
	return p
}

func levelRank(l Level) int {
	switch l {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Fold writes body in a collapsible group under title. What body holds
// (test output, an error quoting a tool) is not paved's: workflow commands
// are off inside it, so a line such as "::add-mask::" or "::error::" in a
// test's output is shown, not obeyed.
func (g *GitHub) Fold(w io.Writer, title, body string) {
	fmt.Fprintf(w, "::group::%s\n", EscapeData(title))
	if body = strings.TrimRight(body, "\n"); body != "" {
		token := "paved-" + nonce()
		fmt.Fprintf(w, "::stop-commands::%s\n%s\n::%s::\n", token, body, token)
	}
	fmt.Fprintln(w, "::endgroup::")
}

// EscapeData escapes a workflow command's message.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a workflow command's property value.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// summary is the step summary in GitHub-flavoured Markdown. Everything
// the run did not write itself goes through cell or code, so neither
// Markdown nor HTML in an error or a test name changes the page.
func (g *GitHub) summary(rep *runner.Report, reportPath string, fs []Finding) []byte {
	var b strings.Builder
	mark := map[runner.Status]string{runner.Succeeded: "✅", runner.Failed: "❌", runner.Skipped: "⏭️"}
	fmt.Fprintf(&b, "## %s paved %s: %s\n\n", mark[rep.Status], cell(rep.Pipeline), cell(string(rep.Status)))
	var facts []string
	if rep.Source.RunURL != "" {
		facts = append(facts, fmt.Sprintf("[run %s](%s)", cell(rep.RunID), linkURL(rep.Source.RunURL)))
	} else {
		facts = append(facts, "run "+code(rep.RunID))
	}
	if rep.Service != "" {
		facts = append(facts, "service "+code(rep.Service))
	}
	if rep.Source.Commit != "" {
		facts = append(facts, "commit "+code(short(rep.Source.Commit)))
	}
	if rep.Source.Ref != "" {
		facts = append(facts, "ref "+code(rep.Source.Ref))
	}
	facts = append(facts, duration(rep.DurationMs))
	b.WriteString(strings.Join(facts, " · ") + "\n\n")

	if rep.Image != nil {
		fmt.Fprintf(&b, "**Image** %s", code(rep.Image.Ref))
		if len(rep.Image.Platforms) > 0 {
			fmt.Fprintf(&b, " (%s)", cell(strings.Join(rep.Image.Platforms, ", ")))
		}
		b.WriteString("\n\n")
	}

	b.WriteString("| Step | Status | Duration | Cache | Result |\n|---|---|---|---|---|\n")
	for _, s := range rep.Steps {
		cache, dur := "miss", duration(s.DurationMs)
		switch {
		case s.Status == runner.Skipped:
			cache, dur = "—", "—"
		case s.Cached:
			cache = "hit"
		}
		res := s.Summary
		if s.Error != "" {
			res = firstLine(s.Error)
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", cell(s.Name), mark[s.Status], cell(string(s.Status)), dur, cache, cell(res))
	}
	b.WriteString("\n")

	if t := rep.Test; t != nil {
		fmt.Fprintf(&b, "### Tests\n\n%d passed, %d failed, %d skipped; coverage %.1f%% (threshold %.1f%%)\n\n", t.Passed, t.Failed, t.Skipped, t.Coverage, t.Threshold)
		for i, f := range t.Failures {
			if i == 20 {
				fmt.Fprintf(&b, "- and %d more (see the run report)\n", len(t.Failures)-i)
				break
			}
			name := f.Package + "." + f.Test
			if f.Test == "" {
				name = f.Package + " (did not build)"
			}
			where := ""
			if f.File != "" {
				where = fmt.Sprintf(" at %s", code(fmt.Sprintf("%s:%d", g.fileOrSource(rep.Source.Dir, f.File), f.Line)))
			}
			fmt.Fprintf(&b, "- ❌ %s%s\n", code(name), where)
		}
		if len(t.Vet) > 0 {
			fmt.Fprintf(&b, "- go vet: %d diagnostic(s)\n", len(t.Vet))
		}
		b.WriteString("\n")
	}

	if l := rep.Lint; l != nil {
		b.WriteString("### Lint and SAST\n\n| Tool | Status | Gate | Findings |\n|---|---|---|---|\n")
		for _, t := range l.Tools {
			gate := "✅ passed"
			if !t.Passed {
				gate = "❌ failed"
			}
			n := 0
			for _, c := range t.Counts {
				n += c
			}
			fmt.Fprintf(&b, "| %s | %s | %s: %s | %d |\n", cell(t.Tool), cell(t.Status), cell(t.Rule), gate, n)
		}
		b.WriteString("\n")
		for _, w := range l.Warnings {
			fmt.Fprintf(&b, "- ⚠️ %s\n", cell(w))
		}
		if len(l.Warnings) > 0 {
			b.WriteString("\n")
		}
	}

	if s := rep.Scan; s != nil {
		gate := "✅ passed"
		if !s.Passed {
			gate = "❌ failed"
		}
		fmt.Fprintf(&b, "### Vulnerabilities\n\n%s; gate %s: %s\n\n", cell(s.Status), cell(s.Gate), gate)
		sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
		b.WriteString("| " + strings.Join(sev, " | ") + " |\n|" + strings.Repeat("---|", len(sev)) + "\n|")
		for _, k := range sev {
			fmt.Fprintf(&b, " %d |", s.Counts[k])
		}
		b.WriteString("\n\n")
		for _, v := range s.Violations {
			fmt.Fprintf(&b, "- ❌ %s\n", cell(v))
		}
		for _, w := range s.Warnings {
			fmt.Fprintf(&b, "- ⚠️ %s\n", cell(w))
		}
		if len(s.Violations)+len(s.Warnings) > 0 {
			b.WriteString("\n")
		}
	}

	if len(rep.SBOM) > 0 || len(rep.Signatures) > 0 || len(rep.Attestations) > 0 {
		b.WriteString("### Supply chain\n\n| Kind | What | Digest |\n|---|---|---|\n")
		for _, s := range rep.SBOM {
			fmt.Fprintf(&b, "| SBOM | %s | %s |\n", cell(s.Format), code(s.Digest))
		}
		for _, s := range rep.Signatures {
			fmt.Fprintf(&b, "| Signature | %s | %s |\n", code(s.Ref), code(s.Subject))
		}
		for _, a := range rep.Attestations {
			fmt.Fprintf(&b, "| Attestation | %s | %s |\n", cell(a.PredicateType), code(a.Digest))
		}
		b.WriteString("\n")
	}

	if len(rep.Warnings) > 0 {
		for _, w := range rep.Warnings {
			fmt.Fprintf(&b, "- ⚠️ %s\n", cell(w))
		}
		b.WriteString("\n")
	}
	if n := len(fs); n > 0 {
		fmt.Fprintf(&b, "%d finding(s) annotated", min(n, maxAnnotations))
		if n > maxAnnotations {
			fmt.Fprintf(&b, " of %d", n)
		}
		b.WriteString(". ")
	}
	fmt.Fprintf(&b, "Report: %s\n", code(reportPath))
	return []byte(b.String())
}

// fileOrSource names a source file from the workspace when it can.
func (g *GitHub) fileOrSource(srcDir, rel string) string {
	if f := g.file(srcDir, rel); f != "" {
		return f
	}
	return rel
}

// cell escapes text for a Markdown table cell or a line: HTML, Markdown's
// punctuation, the cell separator and line breaks.
func cell(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '|':
			b.WriteString("&#124;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code shows s verbatim in a code span that no character of s can end.
func code(s string) string {
	s = html.EscapeString(strings.Join(strings.Fields(s), " "))
	return "<code>" + strings.ReplaceAll(s, "|", "&#124;") + "</code>"
}

// linkURL keeps a link to http(s) only, with the characters that would
// end a Markdown link escaped.
func linkURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return "#"
	}
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E", "\n", "", "\r", "").Replace(u)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if len(l) > 300 {
		l = l[:300] + "…"
	}
	return l
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func duration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d >= time.Second {
		d = d.Round(100 * time.Millisecond)
	}
	return d.String()
}

// appendFile appends to a file the runner gave, as every step of a job
// shares it.
func appendFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func nonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
