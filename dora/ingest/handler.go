package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Appender stores events durably: when Append returns nil, every event is
// committed. Events whose (source, id) is already stored are skipped;
// added is how many were new.
type Appender interface {
	Append(ctx context.Context, events []Event) (added int, err error)
}

// DefaultMaxBytes bounds a request body unless Options say otherwise.
const DefaultMaxBytes = 4 << 20

// Options configure Handler.
type Options struct {
	// MaxBytes bounds a request body; larger requests get 413. Zero means
	// DefaultMaxBytes.
	MaxBytes int64
	// OnError, if set, is told why storing a request failed (the client
	// only gets 503: the error may name the database).
	OnError func(error)
}

// Response is the body of a 200: Received events, of which Added were new
// and Duplicates were already stored.
type Response struct {
	Received   int `json:"received"`
	Added      int `json:"added"`
	Duplicates int `json:"duplicates"`
}

// Handler serves POST /v1/events into a.
func Handler(a Appender, opts Options) http.Handler {
	max := opts.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Message: "only POST", Index: -1})
			return
		}
		if r.ContentLength > max {
			writeError(w, tooLarge(max))
			return
		}
		var buf bytes.Buffer
		if r.ContentLength > 0 {
			buf.Grow(int(r.ContentLength) + 1) // read once, without regrowing
		}
		_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
		body := buf.Bytes()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, tooLarge(max))
				return
			}
			writeError(w, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("reading the body: %v", err), Index: -1})
			return
		}
		evs, err := Decode(r.Header, body)
		if err != nil {
			writeError(w, asError(err, -1))
			return
		}
		for i := range evs {
			if _, err := evs[i].Interpret(); err != nil {
				idx := i
				if len(evs) == 1 && r.Header.Get("Content-Type") != Batch {
					idx = -1
				}
				field, _, _ := strings.Cut(err.Error(), ":")
				writeError(w, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("%s %s/%s: %v", evs[i].Type, evs[i].Source, evs[i].ID, err), Field: field, Index: idx})
				return
			}
		}
		added, err := a.Append(r.Context(), evs)
		if err != nil {
			if opts.OnError != nil {
				opts.OnError(err)
			}
			// Nothing is acknowledged: the sender keeps the events and retries.
			writeError(w, &Error{Status: http.StatusServiceUnavailable, Message: "storing the events failed; retry", Index: -1})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Response{Received: len(evs), Added: added, Duplicates: len(evs) - added})
	})
}

func tooLarge(max int64) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body larger than %d bytes; send smaller batches", max), Index: -1}
}

func asError(err error, index int) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusBadRequest, Message: err.Error(), Index: index}
}

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}
