package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/export"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/store"
	"github.com/pavedhq/paved/dora/synth"
)

// The keys of a synthetic quarter, from the real store by day, written as
// Parquet and read back with parquet-go's reader: the same rows, one per
// team, service and day, every column zstd-compressed.
func TestParquetRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "dora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	hist := synth.Generate(synth.Config{Seed: 5, Teams: 3, ServicesPerTeam: 2, Start: start, Days: 90})
	body, err := json.Marshal(hist.Events)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := ingest.Decode(http.Header{"Content-Type": {ingest.Batch}}, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Metrics(ctx, dora.Query{Environment: dora.Production, From: start, To: start.AddDate(0, 0, 90), Bucket: dora.Day})
	if err != nil {
		t.Fatal(err)
	}
	services := len(rep.Totals)
	if services < 3 || len(rep.Rows) != services*90 {
		t.Fatalf("%d rows for %d services, want 90 each", len(rep.Rows), services)
	}

	var buf bytes.Buffer
	if err := export.Parquet(&buf, rep); err != nil {
		t.Fatal(err)
	}
	got, err := export.ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := export.Rows(rep)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("rows read back differ (-written +read):\n%s", d)
	}
	// And they are the report's figures, not only self-consistent.
	deploys, withLead := 0, 0
	for i, r := range got {
		x := rep.Rows[i]
		if r.Team != x.Team || r.Service != x.Service || !r.Start.Equal(x.Start) || !r.End.Equal(x.End) || r.Bucket != "day" ||
			r.Deployments != int64(x.Deployments) || r.LeadTimeMedianSeconds != x.LeadTime.Median.Seconds() ||
			r.ChangeFailureRate != x.ChangeFailureRate || r.TimeToRestoreP90Seconds != x.TimeToRestore.P90.Seconds() {
			t.Fatalf("row %d: %+v, report %+v", i, r, x)
		}
		deploys += int(r.Deployments)
		if r.LeadTimeChanges > 0 {
			withLead++
		}
	}
	if deploys == 0 || withLead == 0 {
		t.Errorf("an empty history: %d deployments, %d days with lead times", deploys, withLead)
	}

	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != int64(len(want)) {
		t.Errorf("%d rows in the file, want %d", f.NumRows(), len(want))
	}
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec != format.Zstd {
				t.Errorf("column %v: codec %v, want ZSTD", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
	t.Logf("%d rows, %d bytes", len(got), buf.Len())
}
