package store_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/dora/synth"
)

// BenchmarkDecodeAppend measures what one request costs the collector
// without HTTP: decoding a batch of 1000 synthetic events and committing it
// to SQLite.
func BenchmarkDecodeAppend(b *testing.B) {
	h := synth.Generate(synth.Config{Seed: 1, Teams: 20, Days: 120, Pipeline: true})
	var bodies [][]byte
	for i := 0; i+1000 <= len(h.Events); i += 1000 {
		body, _ := json.Marshal(h.Events[i : i+1000])
		bodies = append(bodies, body)
	}
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "dora.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	hdr := http.Header{"Content-Type": {ingest.Batch}}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		evs, err := ingest.Decode(hdr, bodies[i%len(bodies)])
		if err != nil {
			b.Fatal(err)
		}
		for j := range evs {
			evs[j].Interpret()
			evs[j].ID += string(rune('a' + i/len(bodies)%26)) // new ids each round
		}
		if _, err := st.Append(context.Background(), evs); err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) + syscall.TimevalToNsec(ru1.Stime) - syscall.TimevalToNsec(ru0.Utime) - syscall.TimevalToNsec(ru0.Stime))
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/event")
}
