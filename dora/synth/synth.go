// Package synth generates realistic, reproducible DORA histories for tests
// and benchmarks: teams with services, repositories whose commits reach
// main through squash merges and merge commits, batched deployments,
// incidents (some naming the deployed artifact, some only the service),
// rollbacks and fixes forward, and the pipeline events around each
// deployment. The same Config gives the same events, byte for byte.
//
// The events are CloudEvents carrying CDEvents in paved's wire contract
// (customData with team, service, digest, commits...), in structured mode.
package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Config says what to generate.
type Config struct {
	Seed  uint64
	Teams int // default 10
	// ServicesPerTeam is the most services a team has (each has 1..n);
	// default 3.
	ServicesPerTeam int
	Start           time.Time // default 2025-01-06 (a Monday), UTC
	Days            int       // default 365
	Environment     string    // default production
	// Pipeline adds, per deployment, the events of the paved run behind it
	// (20: pipelinerun, taskrun for seven steps, artifact), as a collector
	// receives them.
	Pipeline bool
}

// Event is one CloudEvent in structured mode.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// Truth is what the generator knows it made, per team and service, over
// the whole history: for checking a collector against.
type Truth struct {
	Team, Service string
	Deployments   int // including rollbacks
	Rollbacks     int
	Commits       int // distinct commits deployed
	Incidents     int
}

// History is a generated history, its events in time order.
type History struct {
	Events []Event
	Truth  []Truth
}

type profile struct {
	name        string
	perWorkday  float64 // mean deployments on a working day
	mergesPerDy float64 // mean merges to main per working day
	failure     float64 // chance a deployment causes an incident
	restore     time.Duration
}

// Profiles in the spirit of DORA's clusters: some teams deploy several
// times a day, some monthly.
var profiles = []profile{
	{"elite", 3, 6, 0.05, 40 * time.Minute},
	{"high", 0.5, 3, 0.10, 5 * time.Hour},
	{"medium", 0.15, 1.5, 0.15, 2 * 24 * time.Hour},
	{"low", 0.04, 0.7, 0.35, 9 * 24 * time.Hour},
}

var authors = []string{"ada", "grace", "linus", "ken", "barbara", "margaret", "dennis", "frances", "edsger", "radia"}

// Generate builds the history cfg describes.
func Generate(cfg Config) *History {
	if cfg.Teams <= 0 {
		cfg.Teams = 10
	}
	if cfg.ServicesPerTeam <= 0 {
		cfg.ServicesPerTeam = 3
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Days <= 0 {
		cfg.Days = 365
	}
	if cfg.Environment == "" {
		cfg.Environment = "production"
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x70617665642d6472))
	h := &History{}
	for t := range cfg.Teams {
		team := fmt.Sprintf("team-%03d", t+1)
		p := profiles[pickProfile(rng)]
		n := 1 + rng.IntN(cfg.ServicesPerTeam)
		for s := range n {
			g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, uint64(t*1000+s+1))), team: team, service: fmt.Sprintf("%s-svc-%d", team, s+1), p: p}
			g.run()
			h.Events = append(h.Events, g.events...)
			h.Truth = append(h.Truth, g.truth)
		}
	}
	slices.SortStableFunc(h.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return h
}

func pickProfile(rng *rand.Rand) int {
	x := rng.Float64()
	switch {
	case x < 0.2:
		return 0
	case x < 0.55:
		return 1
	case x < 0.85:
		return 2
	default:
		return 3
	}
}

type commit struct {
	SHA    string    `json:"sha"`
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
}

type gen struct {
	cfg           Config
	rng           *rand.Rand
	team, service string
	p             profile
	events        []Event
	truth         Truth
	seq           int

	pending  []commit // on main, not yet deployed
	head     string
	live     string // digest in production
	previous string
	open     []openIncident
}

type openIncident struct {
	id      string
	digest  string
	resolve time.Time
	how     int // 0 incident.resolved event, 1 rollback, 2 fix forward
}

func (g *gen) id() string {
	g.seq++
	return fmt.Sprintf("%s-%06d", g.service, g.seq)
}

func (g *gen) hash(parts ...any) string {
	s := sha256.Sum256(fmt.Append(nil, parts...))
	return hex.EncodeToString(s[:])
}

func poisson(rng *rand.Rand, mean float64) int {
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *gen) run() {
	g.truth = Truth{Team: g.team, Service: g.service}
	g.live = "sha256:" + g.hash(g.service, "initial")
	for day := range g.cfg.Days {
		d := g.cfg.Start.AddDate(0, 0, day)
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			g.resolveDue(d.Add(24 * time.Hour))
			continue
		}
		// Merges to main during working hours (09:00-18:00).
		for range poisson(g.rng, g.p.mergesPerDy) {
			g.merge(d.Add(9*time.Hour + time.Duration(g.rng.Int64N(int64(9*time.Hour)))))
		}
		slices.SortFunc(g.pending, func(a, b commit) int { return a.Time.Compare(b.Time) })
		n := poisson(g.rng, g.p.perWorkday)
		for i := range n {
			at := d.Add(10*time.Hour + time.Duration(i+1)*time.Duration(8*time.Hour)/time.Duration(n+1))
			g.resolveDue(at)
			g.deploy(at)
		}
		g.resolveDue(d.Add(24 * time.Hour))
	}
}

// merge lands a pull request on main: a squash merge (one commit) or a
// merge carrying its branch's commits, written hours to days earlier.
func (g *gen) merge(at time.Time) {
	author := authors[g.rng.IntN(len(authors))]
	if g.rng.Float64() < 0.6 {
		g.pending = append(g.pending, commit{SHA: g.hash(g.service, "c", at, len(g.pending), g.seq)[:40], Author: author, Time: at})
		return
	}
	k := 2 + g.rng.IntN(4)
	for i := range k {
		t := at.Add(-time.Duration(k-i) * time.Duration(1+g.rng.IntN(20)) * time.Hour)
		g.pending = append(g.pending, commit{SHA: g.hash(g.service, "b", at, i, g.seq)[:40], Author: author, Time: t})
	}
}

func (g *gen) deploy(at time.Time) {
	if len(g.pending) == 0 && g.rng.Float64() < 0.7 {
		return // nothing new to ship
	}
	carried := g.pending
	g.pending = nil
	if len(carried) > 0 {
		g.head = carried[len(carried)-1].SHA
	}
	digest := "sha256:" + g.hash(g.service, "image", at, g.seq)
	g.previous, g.live = g.live, digest
	var resolves []string
	for i := range g.open {
		if g.open[i].how == 2 && g.open[i].id != "" {
			resolves = append(resolves, g.open[i].id)
			g.open[i].id = "" // resolved by this deployment
		}
	}
	g.open = slices.DeleteFunc(g.open, func(o openIncident) bool { return o.id == "" })
	g.emitDeploy("deployed", at, digest, g.previous, carried, resolves)
	g.truth.Commits += len(carried)
	if g.rng.Float64() < g.p.failure {
		detected := at.Add(time.Duration(5+g.rng.IntN(120)) * time.Minute)
		inc := openIncident{id: "INC-" + g.hash(g.service, "inc", at)[:8], how: g.rng.IntN(3)}
		if g.rng.Float64() < 0.7 {
			inc.digest = digest
		}
		restore := time.Duration(float64(g.p.restore) * (0.3 + 1.4*g.rng.Float64()))
		inc.resolve = detected.Add(restore)
		g.emitIncident("detected", detected, inc)
		g.truth.Incidents++
		g.open = append(g.open, inc)
	}
}

// resolveDue resolves open incidents due before t: with an incident
// resolved event, or a rollback to the previous digest (which names the
// incident it resolves); fixes forward wait for the next deployment.
func (g *gen) resolveDue(t time.Time) {
	keep := g.open[:0]
	for _, o := range g.open {
		switch {
		case o.resolve.After(t):
			keep = append(keep, o)
		case o.how == 0:
			g.emitIncident("resolved", o.resolve, o)
		case o.how == 1:
			g.previous, g.live = g.live, g.previous
			g.emitDeploy("rolledback", o.resolve, g.live, g.previous, nil, []string{o.id})
			g.truth.Rollbacks++
			g.emitIncident("resolved", o.resolve.Add(time.Minute), o)
		default:
			keep = append(keep, o) // the next deployment resolves it
		}
	}
	g.open = keep
}

func (g *gen) source() string { return "synth/" + g.team + "/" + g.service }

func (g *gen) emit(typ, subject string, at time.Time, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	g.events = append(g.events, Event{SpecVersion: "1.0", ID: g.id(), Source: g.source(), Type: typ, Subject: subject, Time: at.UTC(), DataContentType: "application/json", Data: b})
}

func purl(service, digest string) string {
	return "pkg:oci/" + service + "@" + digest + "?repository_url=registry.example/" + service
}

type ctx struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Version   string    `json:"version"`
}

func (g *gen) emitDeploy(kind string, at time.Time, digest, previous string, commits []commit, resolves []string) {
	typ := "dev.cdevents.service." + kind + ".0.2.0"
	if g.cfg.Pipeline && kind == "deployed" {
		g.emitPipeline(at)
	}
	if commits == nil {
		commits = []commit{}
	}
	custom := map[string]any{
		"team": g.team, "service": g.service, "digest": digest, "repository": "https://git.example/" + g.team + "/" + g.service,
		"commit": g.head, "previousDigest": previous, "commits": commits, "deployedAt": at.UTC(),
	}
	if len(resolves) > 0 {
		custom["resolves"] = resolves
	}
	id := g.id()
	g.seq-- // emit takes the same id
	g.emit(typ, g.service, at, map[string]any{
		"context": ctx{ID: id, Source: g.source(), Type: typ, Timestamp: at.UTC(), Version: "0.4.1"},
		"subject": map[string]any{"id": g.service, "source": g.source(), "type": "service", "content": map[string]any{
			"environment": map[string]string{"id": g.cfg.Environment}, "artifactId": purl(g.service, digest)}},
		"customDataContentType": "application/json",
		"customData":            custom,
	})
	g.truth.Deployments++
}

func (g *gen) emitIncident(kind string, at time.Time, o openIncident) {
	typ := "dev.cdevents.incident." + kind + ".0.2.0"
	content := map[string]any{"environment": map[string]string{"id": g.cfg.Environment}, "service": map[string]string{"id": g.service}, "description": "synthetic"}
	if o.digest != "" {
		content["artifactId"] = purl(g.service, o.digest)
	}
	id := g.id()
	g.seq--
	g.emit(typ, o.id, at, map[string]any{
		"context":               ctx{ID: id, Source: g.source(), Type: typ, Timestamp: at.UTC(), Version: "0.4.1"},
		"subject":               map[string]any{"id": o.id, "source": g.source(), "type": "incident", "content": content},
		"customDataContentType": "application/json",
		"customData":            map[string]string{"team": g.team, "service": g.service},
	})
}

// emitPipeline adds the events of the paved run that built and promoted
// the deployment, as a collector receives them: pipelinerun queued,
// started and finished; taskrun started and finished for each of the
// go-service pipeline's seven steps; artifact packaged, published and
// signed (20 events, then the deployment itself).
func (g *gen) emitPipeline(at time.Time) {
	run := fmt.Sprintf("%s-run-%d", g.service, g.seq)
	start := at.Add(-15 * time.Minute)
	emit := func(subject, pred, id string, t time.Time, content map[string]any) {
		typ := "dev.cdevents." + subject + "." + pred + ".0.2.0"
		g.emit(typ, id, t, map[string]any{
			"context":    ctx{ID: id + "-" + pred, Source: g.source(), Type: typ, Timestamp: t.UTC(), Version: "0.4.1"},
			"subject":    map[string]any{"id": id, "source": g.source(), "type": subject, "content": content},
			"customData": map[string]string{"team": g.team, "service": g.service},
		})
	}
	emit("pipelinerun", "queued", run, start, map[string]any{"pipelineName": "go-service"})
	emit("pipelinerun", "started", run, start.Add(time.Second), map[string]any{"pipelineName": "go-service"})
	for i, step := range []string{"test", "build", "sbom", "scan", "publish", "sign", "attest"} {
		t := start.Add(time.Duration(i+1) * time.Minute)
		content := map[string]any{"taskName": step, "pipelineRun": map[string]string{"id": run}}
		emit("taskrun", "started", run+"-"+step, t, content)
		emit("taskrun", "finished", run+"-"+step, t.Add(50*time.Second), map[string]any{"taskName": step, "pipelineRun": map[string]string{"id": run}, "outcome": "success"})
	}
	artifact := purl(g.service, "sha256:"+g.hash(g.service, "image", at, g.seq))
	for i, pred := range []string{"packaged", "published", "signed"} {
		emit("artifact", pred, artifact, start.Add(time.Duration(8+i)*time.Minute), map[string]any{})
	}
	emit("pipelinerun", "finished", run, at.Add(-time.Minute), map[string]any{"pipelineName": "go-service", "outcome": "success"})
}
