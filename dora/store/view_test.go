package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora"
	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/internal/wire"
	"github.com/pavedhq/paved/dora/store"
)

func decode(t *testing.T, evs []wire.Event) []ingest.Event {
	t.Helper()
	out, err := ingest.Decode(map[string][]string{"Content-Type": {ingest.Batch}}, wire.Batch(evs...))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestViewFollowsWrites: a store that answered a query keeps answering
// what the database holds after its own appends and after another
// collector's (a second Store on the same database), as a store opened
// afresh does.
func TestViewFollowsWrites(t *testing.T) {
	ctx := context.Background()
	q := dora.Query{From: at("2025-03-03 00:00"), To: at("2025-03-17 00:00"), Bucket: dora.Week}
	evs := golden()
	forEach(t, func(t *testing.T, b backend) {
		st, dsn := open(t, b)
		other, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		steps := []struct {
			by  *store.Store
			evs []wire.Event
		}{{st, evs[:4]}, {st, evs[4:9]}, {other, evs[9:13]}, {st, evs[13:]}, {other, evs[:2]}}
		for i, step := range steps {
			if _, err := step.by.Append(ctx, decode(t, step.evs)); err != nil {
				t.Fatal(err)
			}
			got, err := st.Metrics(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			want, err := fresh.Metrics(ctx, q)
			fresh.Close()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("after step %d the store answers differently from a fresh one (-fresh +store):\n%s", i, diff)
			}
		}
	})
}
