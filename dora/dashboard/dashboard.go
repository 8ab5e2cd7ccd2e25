package dashboard

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/api"
)

//go:embed page.html.tmpl
var pageSource string

var page = template.Must(template.New("page").Parse(pageSource))

// Colours of the four charts (the screenshot test looks for them).
const (
	ColorDeployments = "#2563eb"
	ColorLeadTime    = "#16a34a"
	ColorFailure     = "#dc2626"
	ColorRestore     = "#ea580c"
)

// Options tune the handler.
type Options struct {
	Now func() time.Time           // default time.Now
	Log func(*http.Request, error) // the store's errors; default dropped
}

// Handler serves GET / from m for the teams the caller's token sees (wrap
// it with auth.Set.Require(auth.Read, ...)). It takes the API's query
// parameters; by default the last 90 days by week.
func Handler(m dora.Metrics, opts Options) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = func(*http.Request, error) {}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rep, err := api.Report(r, m, opts.Now())
		if err != nil {
			api.WriteError(w, r, err, opts.Log)
			return
		}
		var buf bytes.Buffer
		if err := Render(&buf, rep); err != nil {
			opts.Log(r, err)
			http.Error(w, "rendering the dashboard failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// No script, no outside resource: say so to the browser.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'")
		_, _ = buf.WriteTo(w)
	})
}

// Render writes the page for r. It is a pure function of the report.
func Render(w io.Writer, r *dora.Report) error {
	return page.Execute(w, view(r))
}

type pageView struct {
	From, To, Bucket string
	Team, Service    string
	Environment      string
	Teams            []teamView
	// Index links to each team's own page when the page shows several.
	Index []link
}

type link struct {
	Name string
	URL  string
}

type teamView struct {
	Name     string
	Services []serviceView
}

type serviceView struct {
	Name   string
	Charts []chart
}

type chart struct {
	Title, Value, Band string
	Color              string
	// Shapes is the chart's SVG elements: built here from numbers and the
	// constant colours only (no name or text reaches it), which spares
	// html/template escaping thousands of attributes on a big page.
	Shapes      template.HTML
	Max         string // the y axis' top, formatted
	First, Last string // the first and last bucket's start
	Empty       bool
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH = 280.0, 90.0
	padTop         = 6.0
)

func view(r *dora.Report) pageView {
	q := r.Query
	v := pageView{
		From:        q.From.UTC().Format(time.DateOnly),
		To:          q.To.UTC().Format(time.DateOnly),
		Bucket:      string(q.Bucket),
		Team:        q.Team,
		Service:     q.Service,
		Environment: q.Environment,
	}
	// Rows are ordered by team, service and start; totals by team and service.
	rows := map[[2]string][]dora.Row{}
	for _, row := range r.Rows {
		k := [2]string{row.Team, row.Service}
		rows[k] = append(rows[k], row)
	}
	for _, t := range r.Totals {
		if len(v.Teams) == 0 || v.Teams[len(v.Teams)-1].Name != t.Team {
			v.Teams = append(v.Teams, teamView{Name: t.Team})
		}
		tv := &v.Teams[len(v.Teams)-1]
		tv.Services = append(tv.Services, serviceView{Name: t.Service, Charts: charts(t, rows[[2]string{t.Team, t.Service}])})
	}
	if len(v.Teams) > 1 {
		for _, t := range v.Teams {
			u := url.Values{"team": {t.Name}, "from": {v.From}, "to": {v.To}, "bucket": {v.Bucket}}
			if q.Environment != "" && q.Environment != dora.Production {
				u.Set("environment", q.Environment)
			}
			v.Index = append(v.Index, link{Name: t.Name, URL: "/?" + u.Encode()})
		}
	}
	return v
}

func charts(t dora.Total, rows []dora.Row) []chart {
	first, last := "", ""
	if len(rows) > 0 {
		first = rows[0].Start.UTC().Format("Jan 2")
		last = rows[len(rows)-1].Start.UTC().Format("Jan 2")
	}
	deploys := make([]float64, len(rows))
	lead := make([]float64, len(rows))
	cfr := make([]float64, len(rows))
	ttr := make([]float64, len(rows))
	for i, row := range rows {
		deploys[i] = float64(row.Deployments)
		cfr[i] = row.ChangeFailureRate
		lead[i], ttr[i] = math.NaN(), math.NaN()
		if row.LeadTime.Count > 0 {
			lead[i] = row.LeadTime.Median.Seconds()
		}
		if row.TimeToRestore.Count > 0 {
			ttr[i] = row.TimeToRestore.Median.Seconds()
		}
	}
	cs := []chart{
		barChart("Deployment frequency", fmt.Sprintf("%s/day", trim(t.DeploymentsPerDay)), t.Bands.DeploymentFrequency, ColorDeployments, deploys, 0, func(v float64) string { return trim(v) + " deploys" }),
		lineChart("Lead time for changes", statText(t.LeadTime), t.Bands.LeadTime, ColorLeadTime, lead),
		barChart("Change failure rate", percent(t.ChangeFailureRate, t.Deployments), t.Bands.ChangeFailureRate, ColorFailure, cfr, 1, func(v float64) string { return percent(v, 1) }),
		lineChart("Time to restore", statText(t.TimeToRestore), t.Bands.TimeToRestore, ColorRestore, ttr),
	}
	for i := range cs {
		cs[i].First, cs[i].Last = first, last
	}
	return cs
}

// barChart draws one bar per bucket, scaled to the largest (or to fixed,
// when not 0: 1 for a rate).
func barChart(title, value string, band dora.Band, color string, vs []float64, fixed float64, label func(float64) string) chart {
	c := chart{Title: title, Value: value, Band: string(band), Color: color}
	top := fixed
	for _, v := range vs {
		top = max(top, v)
	}
	c.Empty = top == 0
	if top == 0 {
		top = 1
	}
	c.Max = label(top)
	n := float64(max(1, len(vs)))
	slot := chartW / n
	var b strings.Builder
	for i, v := range vs {
		h := (chartH - padTop) * v / top
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, num(float64(i)*slot+slot*0.15), num(chartH-h), num(slot*0.7), num(h), color)
	}
	c.Shapes = template.HTML(b.String())
	return c
}

// lineChart joins the buckets that have a value (NaN: none) with a line
// and marks each with a dot.
func lineChart(title, value string, band dora.Band, color string, vs []float64) chart {
	c := chart{Title: title, Value: value, Band: string(band), Color: color}
	top := 0.0
	for _, v := range vs {
		if !math.IsNaN(v) {
			top = max(top, v)
		}
	}
	c.Empty = top == 0
	if top == 0 {
		top = 1
	}
	c.Max = duration(time.Duration(top * float64(time.Second)))
	n := float64(max(1, len(vs)))
	slot := chartW / n
	var pts, dots strings.Builder
	for i, v := range vs {
		if math.IsNaN(v) {
			continue
		}
		x, y := num(float64(i)*slot+slot/2), num(chartH-3-(chartH-padTop-3)*v/top)
		if pts.Len() > 0 {
			pts.WriteByte(' ')
		}
		pts.WriteString(x + "," + y)
		fmt.Fprintf(&dots, `<circle cx="%s" cy="%s" r="4" fill="%s"/>`, x, y, color)
	}
	if pts.Len() > 0 {
		c.Shapes = template.HTML(fmt.Sprintf(`<polyline points="%s" fill="none" stroke="%s" stroke-width="3" stroke-linejoin="round"/>`, pts.String(), color) + dots.String())
	}
	return c
}

// num is a coordinate to a tenth of a unit.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func trim(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

func percent(v float64, n int) string {
	if n == 0 {
		return "–"
	}
	return trim(v*100) + "%"
}

func statText(s dora.Stat) string {
	if s.Count == 0 {
		return "–"
	}
	return fmt.Sprintf("%s median, %s p90 (%d)", duration(s.Median), duration(s.P90), s.Count)
}

// duration is short and human: 45s, 12m, 3.5h, 2.1d.
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return trim(math.Round(d.Hours()*10)/10) + "h"
	default:
		return trim(math.Round(d.Hours()/24*10)/10) + "d"
	}
}
