package prom

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/api"
	"github.com/pavedhq/paved/dora/auth"
)

// DefaultWindow is the trailing period the gauges cover.
const DefaultWindow = 30 * 24 * time.Hour

// ContentType is the text exposition format, version 0.0.4.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Options tune the handler.
type Options struct {
	Window time.Duration              // default DefaultWindow
	Now    func() time.Time           // default time.Now
	Log    func(*http.Request, error) // the store's errors; default dropped
}

// Handler serves GET /metrics from m for the teams the caller's token sees
// (wrap it with auth.Set.Require(auth.Read, ...)).
func Handler(m dora.Metrics, opts Options) http.Handler {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = func(*http.Request, error) {}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			auth.Error(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		to := opts.Now().UTC()
		q := dora.Query{Environment: dora.Production, From: to.Add(-opts.Window), To: to, Bucket: dora.Month}
		c, _ := auth.FromContext(r.Context())
		if err := api.Scope(&q, c); err != nil {
			api.WriteError(w, r, err, opts.Log)
			return
		}
		rep, err := m.Metrics(r.Context(), q)
		if err != nil {
			api.WriteError(w, r, fmt.Errorf("metrics store: %w", err), opts.Log)
			return
		}
		api.Visible(rep, c)
		w.Header().Set("Content-Type", ContentType)
		_ = Write(w, rep, opts.Window)
	})
}

// family is one metric: its name, help and how to read it from a Total.
type family struct {
	name, help string
	samples    func(t dora.Total) []sample
}

type sample struct {
	labels [][2]string // extra labels after team, service, environment
	value  float64
}

func one(v float64) []sample { return []sample{{value: v}} }

// quantiles are a Stat's median and p90, left out when it counted nothing
// (a zero would read as "instant").
func quantiles(s dora.Stat) []sample {
	if s.Count == 0 {
		return nil
	}
	return []sample{
		{labels: [][2]string{{"quantile", "0.5"}}, value: s.Median.Seconds()},
		{labels: [][2]string{{"quantile", "0.9"}}, value: s.P90.Seconds()},
	}
}

func bands(t dora.Total) []sample {
	var out []sample
	for _, kb := range [][2]string{
		{"deployment_frequency", string(t.Bands.DeploymentFrequency)},
		{"lead_time", string(t.Bands.LeadTime)},
		{"change_failure_rate", string(t.Bands.ChangeFailureRate)},
		{"time_to_restore", string(t.Bands.TimeToRestore)},
	} {
		if kb[1] != "" {
			out = append(out, sample{labels: [][2]string{{"key", kb[0]}, {"band", kb[1]}}, value: 1})
		}
	}
	return out
}

var families = []family{
	{"paved_dora_deployments", "Successful deployments in the window.", func(t dora.Total) []sample { return one(float64(t.Deployments)) }},
	{"paved_dora_deployments_per_day", "Deployment frequency: deployments per day over the window.", func(t dora.Total) []sample { return one(t.DeploymentsPerDay) }},
	{"paved_dora_lead_time_seconds", "Lead time for changes: commit to its first deployment, median (quantile 0.5) and p90.", func(t dora.Total) []sample { return quantiles(t.LeadTime) }},
	{"paved_dora_lead_time_changes", "Changes (commits) first deployed in the window.", func(t dora.Total) []sample { return one(float64(t.LeadTime.Count)) }},
	{"paved_dora_failed_deployments", "Deployments in the window with at least one incident attributed.", func(t dora.Total) []sample { return one(float64(t.FailedDeployments)) }},
	{"paved_dora_change_failure_ratio", "Change failure rate: failed deployments / deployments, 0 to 1.", func(t dora.Total) []sample { return one(t.ChangeFailureRate) }},
	{"paved_dora_time_to_restore_seconds", "Time to restore service: incident detected to resolved, median (quantile 0.5) and p90.", func(t dora.Total) []sample { return quantiles(t.TimeToRestore) }},
	{"paved_dora_incidents_restored", "Incidents restored in the window.", func(t dora.Total) []sample { return one(float64(t.TimeToRestore.Count)) }},
	{"paved_dora_band", "DORA performance band of each key (1 for the band the key is in).", bands},
}

// Write writes r's totals as gauges. It is a pure function of the report.
func Write(w io.Writer, r *dora.Report, window time.Duration) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# HELP paved_dora_window_seconds The trailing period the paved_dora gauges cover.\n# TYPE paved_dora_window_seconds gauge\npaved_dora_window_seconds %s\n", num(window.Seconds()))
	env := r.Query.Environment
	if env == "" {
		env = dora.Production
	}
	for _, f := range families {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
		for _, t := range r.Totals {
			for _, s := range f.samples(t) {
				bw.WriteString(f.name)
				bw.WriteString(`{team="` + escape(t.Team) + `",service="` + escape(t.Service) + `",environment="` + escape(env) + `"`)
				for _, l := range s.labels {
					bw.WriteString("," + l[0] + `="` + escape(l[1]) + `"`)
				}
				bw.WriteString("} " + num(s.value) + "\n")
			}
		}
	}
	return bw.Flush()
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// escape is a label value as the text format quotes it (valid UTF-8, which
// the format requires, whatever names the events carried).
func escape(s string) string { return escaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) }

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
