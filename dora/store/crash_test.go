package store_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/internal/wire"
)

// collector is a testcollector process.
type collector struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{} // closed when the process has exited
}

func buildCollector(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testcollector")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/pavedhq/paved/dora/internal/testcollector").CombinedOutput()
	if err != nil {
		t.Fatalf("building testcollector: %v\n%s", err, out)
	}
	return bin
}

func startCollector(t *testing.T, bin, dsn string) *collector {
	t.Helper()
	cmd := exec.Command(bin, "-db", dsn)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("testcollector did not start: %v", err)
	}
	c := &collector{cmd: cmd, url: "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening on ")) + "/v1/events", done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	return c
}

// TestKillDuringIngest kills the collector with SIGKILL while four clients
// send batches, restarts it on the same database and checks that every
// batch it acknowledged is stored, once, with its derived facts; that no
// batch is half stored; and that sending everything again (what a sender's
// spool does) leaves each event exactly once.
func TestKillDuringIngest(t *testing.T) {
	bin := buildCollector(t)
	forEach(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		c := startCollector(t, bin, dsn)

		const clients, perBatch = 4, 100
		batch := func(g, k int) []byte {
			evs := make([]wire.Event, perBatch)
			for i := range evs {
				id := fmt.Sprintf("g%d-b%d-e%d", g, k, i)
				evs[i] = wire.Deploy{Source: "crash", ID: id, Team: "t", Service: fmt.Sprintf("s%d", g), At: at("2025-03-03 10:00").Add(time.Duration(k*perBatch+i) * time.Second),
					Digest: "sha256:" + strings.Repeat("b", 64), Commits: []wire.Commit{{SHA: id, Time: at("2025-03-03 09:00")}}}.Event()
			}
			return wire.Batch(evs...)
		}
		var (
			mu    sync.Mutex
			acked = map[[2]int]bool{}
			sent  = map[[2]int]bool{}
		)
		ackc := make(chan struct{}, 1024)
		var wg sync.WaitGroup
		for g := range clients {
			wg.Go(func() {
				for k := 0; ; k++ {
					mu.Lock()
					sent[[2]int{g, k}] = true
					mu.Unlock()
					resp, err := http.Post(c.url, ingest.Batch, bytes.NewReader(batch(g, k)))
					if err != nil {
						return // the collector is gone
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("batch %d/%d: %d", g, k, resp.StatusCode)
						return
					}
					mu.Lock()
					acked[[2]int{g, k}] = true
					mu.Unlock()
					ackc <- struct{}{}
				}
			})
		}
		for range 12 {
			<-ackc
		}
		if err := c.cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-c.done
		wg.Wait()
		t.Logf("killed after %d acknowledged batches of %d, %d sent", len(acked), perBatch, len(sent))

		// Restart on the same database and read what survived.
		c = startCollector(t, bin, dsn)
		count := func(table, where string) map[string]int {
			db := openSQL(t, dsn)
			defer db.Close() // count runs while the collector writes on
			rows, err := db.Query("SELECT " + where + " FROM " + table)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := map[string]int{}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				n[id]++
			}
			return n
		}
		batchOf := func(id string) [2]int {
			var g, k, i int
			fmt.Sscanf(id, "g%d-b%d-e%d", &g, &k, &i)
			return [2]int{g, k}
		}
		events, deps, changes := count("events", "id"), count("deployments", "id"), count("changes", "sha")
		stored := map[[2]int]int{}
		for id, n := range events {
			if n != 1 || deps[id] != 1 || changes[id] != 1 {
				t.Errorf("event %s: stored %d times, %d deployments, %d changes; want 1 each", id, n, deps[id], changes[id])
			}
			stored[batchOf(id)]++
		}
		for k := range acked {
			if stored[k] != perBatch {
				t.Errorf("acknowledged batch %v: %d of %d events stored", k, stored[k], perBatch)
			}
		}
		for k, n := range stored {
			if n != perBatch {
				t.Errorf("batch %v half stored: %d of %d events", k, n, perBatch)
			}
		}
		t.Logf("after restart: %d batches stored (%d acknowledged, %d more committed before their answer was lost)", len(stored), len(acked), len(stored)-len(acked))

		// The senders deliver again everything they sent.
		for k := range sent {
			resp, err := http.Post(c.url, ingest.Batch, bytes.NewReader(batch(k[0], k[1])))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("redelivering batch %v: %d", k, resp.StatusCode)
			}
		}
		events, deps = count("events", "id"), count("deployments", "id")
		if len(events) != len(sent)*perBatch || len(deps) != len(sent)*perBatch {
			t.Errorf("after redelivery: %d events, %d deployments; want %d each", len(events), len(deps), len(sent)*perBatch)
		}
		for id, n := range events {
			if n != 1 {
				t.Errorf("event %s stored %d times", id, n)
			}
		}
	})
}
