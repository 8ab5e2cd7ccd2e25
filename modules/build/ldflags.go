package build

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// LdflagsData is what ldflags templates read, under the names GoReleaser
// gives them: {{.Version}}, {{.Commit}}, {{.ShortCommit}}, {{.Date}} and
// {{.Env.NAME}}.
type LdflagsData struct {
	Version     string
	Commit      string
	ShortCommit string
	// Date is the build's timestamp (SOURCE_DATE_EPOCH or the commit
	// time) in RFC 3339, not the wall clock, so the binary is reproducible.
	Date string
	Env  map[string]string
}

// NewLdflagsData fills the data from a version, a commit, the build's
// timestamp and an environment (KEY=VALUE, as os.Environ gives it).
func NewLdflagsData(version, commit string, created time.Time, environ []string) LdflagsData {
	d := LdflagsData{Version: version, Commit: commit, ShortCommit: commit[:min(7, len(commit))],
		Date: created.UTC().Format(time.RFC3339), Env: map[string]string{}}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			d.Env[k] = v
		}
	}
	return d
}

// ParseLdflags checks that each template parses; ldflags[i] names the one
// that does not.
func ParseLdflags(tmpls []string) error {
	for i, s := range tmpls {
		if _, err := parseLdflag(i, s); err != nil {
			return err
		}
	}
	return nil
}

// RenderLdflags executes each template with d. A variable the environment
// lacks is an error, as in GoReleaser, not an empty string linked in
// silently. The errors never quote a rendered value: one may hold a secret.
func RenderLdflags(tmpls []string, d LdflagsData) ([]string, error) {
	out := make([]string, len(tmpls))
	for i, s := range tmpls {
		t, err := parseLdflag(i, s)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		if err := t.Execute(&b, d); err != nil {
			return nil, fmt.Errorf("ldflags[%d]: %s", i, execError(err))
		}
		out[i] = b.String()
	}
	return out, nil
}

func parseLdflag(i int, s string) (*template.Template, error) {
	name := fmt.Sprintf("ldflags[%d]", i)
	t, err := template.New(name).Option("missingkey=error").Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: line %s", name, strings.TrimPrefix(err.Error(), "template: "+name+":"))
	}
	return t, nil
}

// execError shortens text/template's message, which repeats the template's
// name and position, to what went wrong.
func execError(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "executing \""); ok {
		if _, why, ok := strings.Cut(rest, "\" "); ok {
			msg = why
		}
	}
	if strings.Contains(msg, "map has no entry for key") {
		msg += " (the environment lacks that variable)"
	}
	return msg
}
