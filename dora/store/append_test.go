package store_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/internal/wire"
)

func pipelineEvent(id string) wire.Event {
	return wire.Event{"specversion": "1.0", "id": id, "source": "paved/t", "type": "dev.cdevents.pipelinerun.started.0.2.0",
		"time": "2025-03-03T09:30:00Z", "datacontenttype": "application/json", "data": map[string]any{"subject": map[string]any{"id": id}}}
}

// Events the keys do not read are stored without asking which were new;
// redelivered ones must still be counted as duplicates, and a redelivered
// deployment must not be derived twice.
func TestRedeliveryOfEveryKind(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		st, dsn := open(t, b)
		srv := httptest.NewServer(ingest.Handler(st, ingest.Options{}))
		defer srv.Close()
		send := func(want ingest.Response, evs ...wire.Event) {
			t.Helper()
			code, body := post(t, srv.URL, wire.Batch(evs...))
			var got ingest.Response
			json.Unmarshal([]byte(body), &got)
			if code != 200 || got != want {
				t.Fatalf("POST: %d %s, want %+v", code, body, want)
			}
		}
		send(ingest.Response{Received: 3, Added: 3}, pipelineEvent("p1"), deployment("d1"), pipelineEvent("p2"))
		send(ingest.Response{Received: 5, Added: 2, Duplicates: 3},
			pipelineEvent("p2"), deployment("d1"), pipelineEvent("p3"), deployment("d2"), pipelineEvent("p1"))

		rows := snapshot(t, dsn)
		var events, deps int
		for _, r := range rows {
			events += b2i(strings.HasPrefix(r, "events["))
			deps += b2i(strings.HasPrefix(r, "deployments["))
		}
		if events != 5 || deps != 2 {
			t.Errorf("stored %d events and %d deployments, want 5 and 2:\n%s", events, deps, strings.Join(rows, "\n"))
		}
		rep, err := st.Metrics(context.Background(), dora.Query{From: at("2025-03-03 00:00"), To: at("2025-03-10 00:00"), Bucket: dora.Week})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Totals) != 1 || rep.Totals[0].Deployments != 2 {
			t.Errorf("totals %+v, want 2 deployments", rep.Totals)
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// The keys read the derived tables whole (the in-memory view), so an
// ingest writes no index but the primary keys.
func TestNoUnreadIndexes(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		_, dsn := open(t, b)
		q := `SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY name`
		if strings.HasPrefix(dsn, "postgres://") {
			q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' ORDER BY indexname`
		}
		rows, err := openSQL(t, dsn).Query(q)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		if len(names) > 0 {
			t.Errorf("indexes besides the primary keys: %s", strings.Join(names, ", "))
		}
	})
}
