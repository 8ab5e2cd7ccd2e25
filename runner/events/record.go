package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// recordVersion versions the spool's entry format.
const recordVersion = 1

// MaxRecordSize bounds one spool entry: an event is a few kilobytes; a
// deployment carrying thousands of commits stays well under it.
const MaxRecordSize = 4 << 20

// Record is one spool entry: an event waiting for one sink.
type Record struct {
	V        int       `json:"v"`
	Sink     Spec      `json:"sink"`
	Created  time.Time `json:"created"`
	Attempts int       `json:"attempts"`
	// Next is when to try again after a failure; zero means now.
	Next      time.Time `json:"next,omitzero"`
	LastError string    `json:"lastError,omitempty"`
	Event     *Event    `json:"event"`
}

// Marshal encodes the record as the spool stores it.
func (r *Record) Marshal() ([]byte, error) {
	return json.Marshal(r)
}

// ParseRecord reads a spool entry, checking everything a later delivery
// relies on: a known version, a sink paved can open, a valid CloudEvent.
func ParseRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("spool entry: %d bytes is more than %d", len(b), MaxRecordSize)
	}
	var raw struct {
		V         int             `json:"v"`
		Sink      Spec            `json:"sink"`
		Created   time.Time       `json:"created"`
		Attempts  int             `json:"attempts"`
		Next      time.Time       `json:"next"`
		LastError string          `json:"lastError"`
		Event     json.RawMessage `json:"event"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("spool entry: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("spool entry: data after the record")
	}
	if raw.V != recordVersion {
		return nil, fmt.Errorf("spool entry: version %d, want %d", raw.V, recordVersion)
	}
	if err := raw.Sink.check(); err != nil {
		return nil, fmt.Errorf("spool entry: %w", err)
	}
	if raw.Attempts < 0 {
		return nil, fmt.Errorf("spool entry: %d attempts", raw.Attempts)
	}
	if len(raw.Event) == 0 || bytes.Equal(raw.Event, []byte("null")) {
		return nil, errors.New("spool entry: no event")
	}
	ev := &Event{}
	if err := ev.UnmarshalJSON(raw.Event); err != nil {
		return nil, fmt.Errorf("spool entry: event: %w", err)
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("spool entry: event: %w", err)
	}
	return &Record{V: raw.V, Sink: raw.Sink, Created: raw.Created, Attempts: raw.Attempts, Next: raw.Next, LastError: raw.LastError, Event: ev}, nil
}

// check is ParseSpec for a stored spec: file paths must be absolute already.
func (s Spec) check() error {
	switch {
	case s == "stdout":
		return nil
	case strings.HasPrefix(string(s), "file:"):
		if p := strings.TrimPrefix(string(s), "file:"); !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return fmt.Errorf("sink %q: not a clean absolute path", s)
		}
		return nil
	}
	_, _, err := splitHTTP(string(s))
	return err
}
