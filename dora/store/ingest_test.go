package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/internal/wire"
)

// snapshot is every row of every table, to show a refused request changed
// nothing.
func snapshot(t *testing.T, dsn string) []string {
	t.Helper()
	db := openSQL(t, dsn)
	var out []string
	for _, table := range []string{"events", "deployments", "changes", "incidents"} {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			// received is when the collector stored the row; the rest is the event.
			out = append(out, table+fmt.Sprint(vals))
		}
		rows.Close()
	}
	sort.Strings(out)
	return out
}

func deployment(id string) wire.Event {
	return wire.Deploy{Source: "paved/t", ID: id, Team: "t", Service: "s", Digest: "sha256:" + strings.Repeat("a", 64), At: at("2025-03-03 10:00"),
		Commits: []wire.Commit{{SHA: "c-" + id, Time: at("2025-03-03 09:00")}}}.Event()
}

func without(e wire.Event, path ...string) wire.Event {
	b := e.JSON()
	var m map[string]any
	json.Unmarshal(b, &m)
	cur := m
	for _, p := range path[:len(path)-1] {
		cur = cur[p].(map[string]any)
	}
	delete(cur, path[len(path)-1])
	return m
}

func TestIngestRefusesBadRequests(t *testing.T) {
	forEach(t, func(t *testing.T, b backend) {
		st, dsn := open(t, b)
		srv := httptest.NewServer(ingest.Handler(st, ingest.Options{MaxBytes: 64 << 10}))
		defer srv.Close()
		if code, body := post(t, srv.URL, wire.Batch(deployment("first"))); code != 200 {
			t.Fatalf("POST: %d %s", code, body)
		}
		before := snapshot(t, dsn)
		if len(before) != 3 {
			t.Fatalf("after one deployment the tables hold %d rows, want 3 (event, deployment, change): %v", len(before), before)
		}

		binary := func(h map[string]string) http.Header {
			hd := http.Header{"Content-Type": {"application/json"}}
			for k, v := range h {
				hd.Set(k, v)
			}
			return hd
		}
		ce := map[string]string{"ce-id": "b1", "ce-source": "paved/t", "ce-specversion": "1.0", "ce-type": "dev.example.thing.0.1.0"}
		minus := func(k string) map[string]string {
			m := map[string]string{}
			for kk, v := range ce {
				if kk != k {
					m[kk] = v
				}
			}
			return m
		}
		big := deployment("big")
		big["padding"] = strings.Repeat("x", 70<<10)

		for _, tc := range []struct {
			name   string
			method string
			header http.Header
			body   []byte
			status int
			field  string
			index  int
			msg    string
		}{
			{"malformed JSON batch", "", nil, []byte(`[{"id": "x",`), 400, "", -1, "malformed JSON"},
			{"malformed JSON structured", "", http.Header{"Content-Type": {ingest.Structured}}, []byte(`{"id": }`), 400, "", -1, "malformed JSON"},
			{"batch event missing id", "", nil, wire.Batch(deployment("ok"), without(deployment("x"), "id")), 400, "id", 1, `missing required CloudEvents attribute "id"`},
			{"missing source", "", nil, wire.Batch(without(deployment("x"), "source")), 400, "source", 0, `"source"`},
			{"missing specversion", "", nil, wire.Batch(without(deployment("x"), "specversion")), 400, "specversion", 0, `"specversion"`},
			{"missing type", "", nil, wire.Batch(without(deployment("x"), "type")), 400, "type", 0, `"type"`},
			{"wrong specversion", "", nil, []byte(strings.Replace(string(wire.Batch(deployment("x"))), `"1.0"`, `"0.3"`, 1)), 400, "specversion", 0, "only CloudEvents 1.0"},
			{"binary missing ce-source", "", binary(minus("ce-source")), []byte(`{}`), 400, "ce-source", -1, `"ce-source"`},
			{"binary missing ce-type", "", binary(minus("ce-type")), []byte(`{}`), 400, "ce-type", -1, `"ce-type"`},
			{"binary malformed JSON data", "", binary(ce), []byte(`{"a":`), 400, "data", -1, "malformed JSON"},
			{"deployment without environment", "", nil, wire.Batch(without(deployment("x"), "data", "subject", "content", "environment")), 400, "data.subject.content.environment.id", 0, "missing"},
			{"deployment without service", "", nil, wire.Batch(without(without(deployment("x"), "data", "customData", "service"), "data", "subject", "id")), 400, "data.subject.id", 0, "missing"},
			{"deployment with a bad commit time", "", nil, []byte(strings.Replace(string(wire.Batch(deployment("x"))), "2025-03-03T09:00:00Z", "yesterday", 1)), 400, "data.customData.commits[0].time", 0, "RFC 3339"},
			{"oversized body", "", nil, wire.Batch(big), 413, "", -1, "larger than 65536 bytes"},
			{"no CloudEvent", "", http.Header{"Content-Type": {"text/plain"}}, []byte("hello"), 415, "Content-Type", -1, "text/plain"},
			{"GET", "GET", nil, nil, 405, "", -1, "only POST"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				method := tc.method
				if method == "" {
					method = "POST"
				}
				req, _ := http.NewRequest(method, srv.URL, bytes.NewReader(tc.body))
				req.Header = tc.header
				if req.Header == nil {
					req.Header = http.Header{"Content-Type": {ingest.Batch}}
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var e ingest.Error
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
					t.Fatalf("%d with a body that is not a JSON error: %v", resp.StatusCode, err)
				}
				if resp.StatusCode != tc.status || e.Field != tc.field || e.Index != tc.index || !strings.Contains(e.Message, tc.msg) {
					t.Errorf("got %d %+v, want %d field %q index %d message containing %q", resp.StatusCode, e, tc.status, tc.field, tc.index, tc.msg)
				}
				if diff := cmp.Diff(before, snapshot(t, dsn)); diff != "" {
					t.Errorf("a refused request changed the database (-before +after):\n%s", diff)
				}
			})
		}

		// Accepted: any valid CloudEvent, in binary mode too, including types
		// the keys do not read; stored, and once.
		for range 2 {
			req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(`{"anything": true}`))
			req.Header = binary(ce)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("binary mode event of an unknown type: %d, want 200", resp.StatusCode)
			}
		}
		if got := len(snapshot(t, dsn)); got != 4 {
			t.Errorf("after an unknown-type event sent twice the tables hold %d rows, want 4", got)
		}
	})
}

var _ = context.Background
