package tests

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pavedhq/paved/internal/testtools"
	"github.com/pavedhq/paved/internal/testtools/loopback"
)

// collector is a paved dora serve the test started.
type collector struct {
	url, db string
	cmd     *exec.Cmd
	exited  chan error
	logs    *strings.Builder
}

// startCollector runs paved dora serve on a SQLite file with a tokens file
// granting token ingest and read for teams, and returns once it listens and
// answers /healthz.
func startCollector(t *testing.T, token string, teams ...string) *collector {
	t.Helper()
	return startCollectorAt(t, t.TempDir(), "127.0.0.1:0", token, teams...)
}

// startCollectorAt is startCollector with its database in dir, listening
// on addr: started again with the same dir and address, it is the same
// collector to the senders whose spools hold its URL.
func startCollectorAt(t *testing.T, dir, addr, token string, teams ...string) *collector {
	t.Helper()
	sum := sha256.Sum256([]byte(token))
	tokens := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("tokens:\n  - name: e2e\n    sha256: %x\n    teams: [%s]\n    rights: [ingest, read]\n    rate: 100\n",
		sum, strings.Join(teams, ", "))), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &collector{db: filepath.Join(dir, "dora.db"), exited: make(chan error, 1), logs: &strings.Builder{}}
	// Port 0: the collector prints the address it listens on, so no port
	// can be taken between choosing it and listening.
	c.cmd = exec.Command(pavedBin, "dora", "serve", "--db", c.db, "--tokens", tokens, "--addr", addr)
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			c.logs.WriteString(line + "\n")
			if u, ok := strings.CutPrefix(line, "paved dora: listening on "); ok {
				listening <- u
			}
		}
		io.Copy(io.Discard, stderr)
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.url = <-listening:
	case err := <-c.exited:
		t.Fatalf("paved dora serve exited before listening: %v\n%s", err, c.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("paved dora serve did not listen within 30 s\n%s", c.logs)
	}
	resp, err := http.Get(c.url + "/healthz")
	if err != nil {
		t.Fatalf("%s/healthz: %v", c.url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s/healthz: %s", c.url, resp.Status)
	}
	return c
}

// stop ends the collector by its process id and waits for it.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(c.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		if err != nil {
			t.Errorf("paved dora serve after SIGTERM: %v\n%s", err, c.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("paved dora serve did not stop on SIGTERM\n%s", c.logs)
	}
}

// doraTotal is one team and service's totals in paved dora metrics --json.
type doraTotal struct {
	Team, Service     string
	Deployments       int
	LeadTime          doraStat
	FailedDeployments int
	ChangeFailureRate float64
	TimeToRestore     doraStat
}

type doraStat struct {
	Count         int
	MedianSeconds float64
	P90Seconds    float64
}

func doraMetrics(t *testing.T, c *collector, token string) []doraTotal {
	t.Helper()
	r := paved(t, []string{"PAVED_DORA_TOKEN=" + token}, "dora", "metrics", "--server", c.url, "--json")
	if r.code != 0 {
		t.Fatalf("paved dora metrics exited %d\n%s", r.code, r.stderr)
	}
	var rep struct{ Totals []doraTotal }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("paved dora metrics --json: %v\n%s", err, r.stdout)
	}
	return rep.Totals
}

// scrape reads the collector's Prometheus gauges, one line each.
func scrape(t *testing.T, c *collector, token string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/metrics: %s %v\n%s", c.url, resp.Status, err, b)
	}
	return strings.Split(string(b), "\n")
}

// sinkEvent is what the test reads of a CloudEvent in a file sink.
type sinkEvent struct {
	Source, ID, Type string
	Data             struct {
		Context    struct{ Timestamp time.Time }
		CustomData struct {
			DeployedAt time.Time
			Commits    []struct {
				SHA  string
				Time time.Time
			}
		}
		Subject struct {
			Content struct{ ArtifactID string }
		}
	}
}

func readSink(t *testing.T, path string) []sinkEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []sinkEvent
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev sinkEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, ev)
	}
	return out
}

// commitAt commits everything in dir with author and committer time at.
func commitAt(t *testing.T, dir, msg string, at time.Time) string {
	t.Helper()
	date := fmt.Sprintf("@%d +0000", at.Unix())
	for _, args := range [][]string{{"add", "."}, {"commit", "-q", "--allow-empty", "-m", msg}} {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Dev", "-c", "user.email=dev@example.test"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return git(t, dir, "rev-parse", "HEAD")
}

// TestDoraCollectorGoService runs the golden path and a promotion to
// production against a collector the test starts: its metrics count the
// deployment, with the lead time from the commit to the promotion, then an
// incident on the promoted image makes it a failed deployment.
func TestDoraCollectorGoService(t *testing.T) {
	reg := registry(t) // first: where it is missing, the test ends before building cosign
	cosign := testtools.Cosign(t, testtools.CosignV3)
	key, pub := keyPair(t, cosign, keyPassword)

	var b [32]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	col := startCollector(t, token, "payments") // examples/go-service/paved.yaml: team payments, service go-service
	sink := col.url + "/v1/events"
	// A spool of the test's own, so that what is left in it is this test's.
	env := []string{"XDG_STATE_HOME=" + t.TempDir(), "PAVED_EVENTS_TOKEN=" + token, "COSIGN_PASSWORD=" + keyPassword}
	dir := t.TempDir()

	// A checkout of two commits at known times; the second is built.
	src := copyExample(t)
	git(t, src, "init", "-q", "-b", "main")
	git(t, src, "remote", "add", "origin", sourceRepo+".git")
	now := time.Now().UTC().Truncate(time.Second)
	commitAt(t, src, "service", now.Add(-50*time.Hour))
	commitTime := now.Add(-3*time.Hour - 17*time.Minute - 23*time.Second)
	if err := os.WriteFile(filepath.Join(src, "CHANGES.md"), []byte("- version 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	head := commitAt(t, src, "version 2", commitTime)

	runEvents := filepath.Join(dir, "run.jsonl")
	r := paved(t, env, "run", "go-service", "--source", src, "--image", reg+"/staging/svc", "--key", key, "--cache-dir", t.TempDir(),
		"--events", sink, "--events", "file:"+runEvents)
	if r.code != 0 {
		t.Fatalf("paved run exited %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "warning: events") {
		t.Errorf("the run could not deliver its events:\n%s", r.stderr)
	}
	signed := r.lastLine()
	digest := signed[strings.Index(signed, "@")+1:]

	// The built-in policy promotes into production.
	deployments := filepath.Join(dir, "deployments.jsonl")
	r = paved(t, env, "promote", "--from", signed, "--to", reg+"/prod/svc", "--key", pub, "--vuln-db", demoDB,
		"--source", src, "--events", sink, "--deployments", deployments)
	if r.code != 0 {
		t.Fatalf("paved promote exited %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "warning: events") {
		t.Errorf("the promotion could not deliver its event:\n%s", r.stderr)
	}
	deps := readSink(t, deployments)
	if len(deps) != 1 {
		t.Fatalf("%d events in %s, want 1", len(deps), deployments)
	}
	dep := deps[0]
	cd := dep.Data.CustomData
	if len(cd.Commits) != 1 || cd.Commits[0].SHA != head || !cd.Commits[0].Time.Equal(commitTime) || cd.DeployedAt.IsZero() {
		t.Fatalf("the deployment carries %+v at %s, want commit %s at %s", cd.Commits, cd.DeployedAt, head, commitTime)
	}
	if dep.Source != "paved/payments/go-service" || !strings.Contains(dep.Data.Subject.Content.ArtifactID, digest) {
		t.Fatalf("deployment event from %s of %s", dep.Source, dep.Data.Subject.Content.ArtifactID)
	}
	wantLead := cd.DeployedAt.Sub(commitTime).Seconds()

	total := func(totals []doraTotal) doraTotal {
		t.Helper()
		for _, x := range totals {
			if x.Team == "payments" && x.Service == "go-service" {
				return x
			}
		}
		t.Fatalf("no totals for payments/go-service in %+v", totals)
		return doraTotal{}
	}
	got := total(doraMetrics(t, col, token))
	t.Logf("after the promotion: %d deployment(s), lead time count %d median %.6f s (deployed %s − committed %s = %.6f s), failure rate %v",
		got.Deployments, got.LeadTime.Count, got.LeadTime.MedianSeconds, cd.DeployedAt.Format(time.RFC3339Nano), commitTime.Format(time.RFC3339), wantLead, got.ChangeFailureRate)
	// The collector keeps times to the microsecond.
	if got.Deployments != 1 || got.LeadTime.Count != len(cd.Commits) || math.Abs(got.LeadTime.MedianSeconds-wantLead) > 1e-6 ||
		got.FailedDeployments != 0 || got.ChangeFailureRate != 0 || got.TimeToRestore.Count != 0 {
		t.Errorf("after the promotion: %+v, want 1 deployment, lead time of %d commit(s) with median %.6f s, no failure", got, len(cd.Commits), wantLead)
	}

	// The Prometheus gauges read the same report.
	labels := `{team="payments",service="go-service",environment="production"`
	gauges := scrape(t, col, token)
	for _, g := range []string{"paved_dora_deployments" + labels + "} 1", "paved_dora_lead_time_changes" + labels + "} 1",
		"paved_dora_lead_time_seconds" + labels + `,quantile="0.5"} ` + strconv.FormatFloat(wantLead, 'g', -1, 64),
		"paved_dora_change_failure_ratio" + labels + "} 0"} {
		if !slices.Contains(gauges, g) {
			t.Errorf("GET /metrics has no line %s:\n%s", g, strings.Join(gauges, "\n"))
		}
	}

	// An incident on the promoted image, opened and resolved through the
	// same collector.
	incidents := filepath.Join(dir, "incidents.jsonl")
	r = paved(t, env, "dora", "incident", "open", "--source", src, "--environment", "production",
		"--artifact", dep.Data.Subject.Content.ArtifactID, "--events", sink, "--events", "file:"+incidents)
	if r.code != 0 {
		t.Fatalf("paved dora incident open exited %d\n%s", r.code, r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	r = paved(t, env, "dora", "incident", "resolve", "--source", src, "--environment", "production", "--id", id,
		"--events", sink, "--events", "file:"+incidents)
	if r.code != 0 {
		t.Fatalf("paved dora incident resolve exited %d\n%s", r.code, r.stderr)
	}
	inc := readSink(t, incidents)
	if len(inc) != 2 || !strings.Contains(inc[0].Type, ".incident.detected.") || !strings.Contains(inc[1].Type, ".incident.resolved.") {
		t.Fatalf("incident events %+v", inc)
	}
	wantRestore := inc[1].Data.Context.Timestamp.Sub(inc[0].Data.Context.Timestamp).Seconds()
	got = total(doraMetrics(t, col, token))
	t.Logf("after the incident: %d deployment(s), %d failed, failure rate %v, time to restore count %d median %.6f s (resolved − opened = %.6f s)",
		got.Deployments, got.FailedDeployments, got.ChangeFailureRate, got.TimeToRestore.Count, got.TimeToRestore.MedianSeconds, wantRestore)
	if got.Deployments != 1 || got.FailedDeployments != 1 || got.ChangeFailureRate != 1 || got.TimeToRestore.Count != 1 ||
		math.Abs(got.TimeToRestore.MedianSeconds-wantRestore) > 1e-6 || math.Abs(got.LeadTime.MedianSeconds-wantLead) > 1e-6 {
		t.Errorf("after the incident: %+v, want 1 failed deployment of 1, time to restore %.6f s", got, wantRestore)
	}

	// Nothing is left in the spool, and the collector holds every event the
	// file sinks got, each once, and nothing else.
	if r := paved(t, env, "events", "flush"); r.code != 0 || !strings.Contains(r.stderr, "0 delivered, 0 waiting") {
		t.Errorf("paved events flush: exit %d\n%s", r.code, r.stderr)
	}
	var want []string
	for _, f := range []string{runEvents, deployments, incidents} {
		for _, ev := range readSink(t, f) {
			want = append(want, ev.Source+" "+ev.ID)
		}
	}
	col.stop(t)
	stored := storedEvents(t, col.db)
	slices.Sort(want)
	t.Logf("the collector stored %d events: %d from the run, 1 deployment, 2 incident events", len(stored), len(want)-3)
	if !slices.Equal(want, stored) || len(slices.Compact(slices.Clone(want))) != len(want) {
		t.Errorf("the collector stored\n%s\nthe sinks got\n%s", strings.Join(stored, "\n"), strings.Join(want, "\n"))
	}
}

// storedEvents is "source id" of every event in a stopped collector's
// SQLite database, sorted.
func storedEvents(t *testing.T, db string) []string {
	t.Helper()
	d, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rows, err := d.QueryContext(context.Background(), "SELECT source, id FROM events")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var s, id string
		if err := rows.Scan(&s, &id); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, s+" "+id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(stored)
	return stored
}

// sunk is "source id" of every event in the file sinks, sorted; a line
// twice fails the test (the file sinks are the reference).
func sunk(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		for _, ev := range readSink(t, f) {
			out = append(out, ev.Source+" "+ev.ID)
		}
	}
	slices.Sort(out)
	if n := len(slices.Compact(slices.Clone(out))); n != len(out) {
		t.Fatalf("the file sinks hold %d events, %d distinct", len(out), n)
	}
	return out
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TestDoraSinkDownForThreeRuns: three paved test runs while the collector
// is down each warn, succeed and keep their events in the spool; the
// fourth, with the collector up, delivers all four runs' events, and the
// collector holds each exactly once: the same events as a file sink that
// was never down.
func TestDoraSinkDownForThreeRuns(t *testing.T) {
	token := randomToken()
	addr, dbDir := loopback.FreeAddr(t), t.TempDir()
	sink := "http://" + addr + "/v1/events"
	env := []string{"XDG_STATE_HOME=" + t.TempDir(), "PAVED_EVENTS_TOKEN=" + token}
	src, cache := copyExample(t), t.TempDir()
	file := filepath.Join(t.TempDir(), "runs.jsonl")
	run := func(n int) result {
		t.Helper()
		r := paved(t, env, "test", "--source", src, "--cache-dir", cache, "--events", sink, "--events", "file:"+file)
		if r.code != 0 {
			t.Fatalf("run %d exited %d\n%s", n, r.code, r.stderr)
		}
		return r
	}
	for n := 1; n <= 3; n++ {
		if r := run(n); !strings.Contains(r.stderr, "connection refused") {
			t.Errorf("run %d with the collector down did not warn that it is:\n%s", n, r.stderr)
		}
	}
	col := startCollectorAt(t, dbDir, addr, token, "payments")
	if r := run(4); strings.Contains(r.stderr, "warning: events") {
		t.Errorf("run 4 could not deliver:\n%s", r.stderr)
	}
	// The fourth run delivered the spool: nothing is left for a flush.
	if r := paved(t, env, "events", "flush"); r.code != 0 || !strings.Contains(r.stderr, "0 delivered, 0 waiting") {
		t.Errorf("paved events flush after run 4: exit %d\n%s", r.code, r.stderr)
	}
	col.stop(t)
	want, stored := sunk(t, file), storedEvents(t, col.db)
	runs := map[string]bool{}
	for _, ev := range readSink(t, file) {
		runs[strings.SplitN(ev.ID, "/", 2)[0]] = true
	}
	t.Logf("%d events from %d runs; the collector stored %d", len(want), len(runs), len(stored))
	if len(runs) != 4 {
		t.Errorf("the file sink holds events of %d runs, want 4", len(runs))
	}
	if !slices.Equal(want, stored) {
		t.Errorf("the collector stored\n%s\nthe file sink got\n%s", strings.Join(stored, "\n"), strings.Join(want, "\n"))
	}
}

// TestDoraCollectorKilledDuringBurst: paved processes record incidents,
// four at a time, into a collector that is killed (SIGKILL) after eight of
// them finished; the rest warn and spool. After a restart on the same
// database and address, every event a process saw acknowledged is stored,
// and paved events flush delivers the spooled rest: each event exactly
// once, the same events as the file sinks.
func TestDoraCollectorKilledDuringBurst(t *testing.T) {
	token := randomToken()
	addr, dbDir := loopback.FreeAddr(t), t.TempDir()
	sink := "http://" + addr + "/v1/events"
	env := []string{"XDG_STATE_HOME=" + t.TempDir(), "PAVED_EVENTS_TOKEN=" + token}
	svc, files := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(svc, "paved.yaml"), []byte("team: payments\nservice: api\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	col := startCollectorAt(t, dbDir, addr, token, "payments")

	const workers, each = 4, 10
	var (
		mu       sync.Mutex
		acked    []string // "source id" of the events whose process had no warning
		spooled  int
		finished = make(chan struct{}, workers*each)
		wg       sync.WaitGroup
	)
	for w := range workers {
		file := filepath.Join(files, fmt.Sprintf("w%d.jsonl", w))
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("INC-%d-%d", w, i)
				r := paved(t, env, "dora", "incident", "open", "--source", svc, "--environment", "production", "--id", id,
					"--events", sink, "--events", "file:"+file)
				if r.code != 0 {
					t.Errorf("incident %s: exit %d (a sink outage must not fail the command)\n%s", id, r.code, r.stderr)
					return
				}
				mu.Lock()
				if strings.Contains(r.stderr, "warning") {
					spooled++
				} else {
					acked = append(acked, "paved/payments/api "+id+"/incident.detected")
				}
				mu.Unlock()
				finished <- struct{}{}
			}
		})
	}
	for range 8 {
		<-finished
	}
	if err := col.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-col.exited
	wg.Wait()
	t.Logf("killed after 8 of %d processes; %d saw their event acknowledged, %d spooled it", workers*each, len(acked), spooled)
	if len(acked) == 0 || spooled == 0 {
		t.Fatalf("%d acknowledged, %d spooled: the burst did not span the kill", len(acked), spooled)
	}

	col = startCollectorAt(t, dbDir, addr, token, "payments")
	col.stop(t)
	stored := storedEvents(t, col.db)
	for _, a := range acked {
		if _, found := slices.BinarySearch(stored, a); !found {
			t.Errorf("acknowledged event %s is not stored", a)
		}
	}

	col = startCollectorAt(t, dbDir, addr, token, "payments")
	if r := paved(t, env, "events", "flush"); r.code != 0 || !strings.Contains(r.stderr, "0 waiting") {
		t.Errorf("paved events flush: exit %d\n%s", r.code, r.stderr)
	}
	col.stop(t)
	var sinks []string
	for w := range workers {
		sinks = append(sinks, filepath.Join(files, fmt.Sprintf("w%d.jsonl", w)))
	}
	want, stored := sunk(t, sinks...), storedEvents(t, col.db)
	if len(want) != workers*each {
		t.Errorf("the file sinks hold %d events, want %d", len(want), workers*each)
	}
	if !slices.Equal(want, stored) {
		t.Errorf("the collector stored\n%s\nthe file sinks got\n%s", strings.Join(stored, "\n"), strings.Join(want, "\n"))
	}
}
