package ingest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Media types of the two JSON encodings of CloudEvents over HTTP.
const (
	Structured = "application/cloudevents+json"
	Batch      = "application/cloudevents-batch+json"
)

// Event is one CloudEvent 1.0 as received.
type Event struct {
	ID              string
	Source          string
	SpecVersion     string
	Type            string
	Subject         string
	Time            time.Time // zero when the event has none
	DataContentType string
	// Data is the event's data as received. For JSON data (no content
	// type, application/json or any +json) it is the JSON text.
	Data []byte

	fact        any
	interpreted bool
	factErr     error
}

// JSONData reports whether Data is JSON text.
func (e *Event) JSONData() bool { return isJSON(e.DataContentType) }

func isJSON(ct string) bool {
	if ct == "" || ct == "application/json" { // the usual cases, without parsing
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

// Error is a request the collector refuses: Status is the HTTP status, Field
// the attribute or data field at fault, Index the event's position in a
// batch (-1 when not in one).
type Error struct {
	Status  int    `json:"-"`
	Message string `json:"error"`
	Field   string `json:"field,omitempty"`
	Index   int    `json:"index"`
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Index >= 0 {
		fmt.Fprintf(&b, "event %d: ", e.Index)
	}
	b.WriteString(e.Message)
	return b.String()
}

func badRequest(index int, field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...), Field: field, Index: index}
}

// structured is the JSON form of one event; unknown members are extension
// attributes, kept only as part of nothing: the keys do not read them.
// Absent, null and empty attributes are all "" (check refuses a missing
// required one); only time and data_base64 are pointers, as "" is
// malformed for them.
type structured struct {
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	SpecVersion     string          `json:"specversion"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            *string         `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      *string         `json:"data_base64"`
}

// Decode reads the events of one request: binary mode when it carries a
// ce-specversion header, otherwise by its Content-Type. body is the whole
// request body, already limited in size by the caller.
func Decode(h http.Header, body []byte) ([]Event, error) {
	if h.Get("Ce-Specversion") != "" || h.Get("Ce-Id") != "" {
		e, err := decodeBinary(h, body)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	}
	ct := h.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("content type %q: %v", ct, err), Field: "Content-Type", Index: -1}
	}
	switch mt {
	case Structured:
		e, err := decodeStructured(-1, body)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	case Batch:
		return decodeBatch(body)
	case "":
		return nil, badRequest(-1, "ce-specversion", "no CloudEvent: neither ce-* headers (binary mode) nor a CloudEvents Content-Type (%s or %s)", Structured, Batch)
	default:
		return nil, &Error{Status: http.StatusUnsupportedMediaType, Message: fmt.Sprintf("content type %q without ce-* headers: send binary mode, %s or %s", mt, Structured, Batch), Field: "Content-Type", Index: -1}
	}
}

func decodeBinary(h http.Header, body []byte) (Event, error) {
	e := Event{
		ID:              h.Get("Ce-Id"),
		Source:          h.Get("Ce-Source"),
		SpecVersion:     h.Get("Ce-Specversion"),
		Type:            h.Get("Ce-Type"),
		Subject:         h.Get("Ce-Subject"),
		DataContentType: h.Get("Content-Type"),
	}
	if len(body) > 0 {
		e.Data = body
	}
	if t := h.Get("Ce-Time"); t != "" {
		tt, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return e, badRequest(-1, "ce-time", "ce-time %q is not an RFC 3339 time", t)
		}
		e.Time = tt
	}
	if err := e.check(-1, "ce-"); err != nil {
		return e, err
	}
	if e.JSONData() && len(e.Data) > 0 && !json.Valid(e.Data) {
		return e, badRequest(-1, "data", "malformed JSON data (content type %q)", e.DataContentType)
	}
	return e, nil
}

func decodeBatch(body []byte) ([]Event, error) {
	// One pass for the usual, valid batch; on an error the slow path below
	// finds the event at fault.
	var all []structured
	if err := json.Unmarshal(body, &all); err == nil && len(all) > 0 {
		evs := make([]Event, len(all))
		ok := true
		for i := range all {
			if evs[i], err = fromStructured(i, &all[i]); err != nil {
				ok = false
				break
			}
		}
		if ok {
			return evs, nil
		}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, badRequest(-1, "", "malformed JSON: a batch is an array of events: %v", err)
	}
	if len(raws) == 0 {
		return nil, badRequest(-1, "", "empty batch")
	}
	evs := make([]Event, len(raws))
	for i, r := range raws {
		e, err := decodeStructured(i, r)
		if err != nil {
			return nil, err
		}
		evs[i] = e
	}
	return evs, nil
}

func decodeStructured(index int, body []byte) (Event, error) {
	var s structured
	if err := json.Unmarshal(body, &s); err != nil {
		return Event{}, badRequest(index, "", "malformed JSON: %v", err)
	}
	return fromStructured(index, &s)
}

func fromStructured(index int, s *structured) (Event, error) {
	e := Event{
		ID:              s.ID,
		Source:          s.Source,
		SpecVersion:     s.SpecVersion,
		Type:            s.Type,
		Subject:         s.Subject,
		DataContentType: s.DataContentType,
	}
	if err := e.check(index, ""); err != nil {
		return e, err
	}
	if s.Time != nil {
		t, err := time.Parse(time.RFC3339Nano, *s.Time)
		if err != nil {
			return e, badRequest(index, "time", "time %q is not an RFC 3339 time", *s.Time)
		}
		e.Time = t
	}
	switch {
	case s.DataBase64 != nil && len(s.Data) > 0:
		return e, badRequest(index, "data_base64", "both data and data_base64")
	case s.DataBase64 != nil:
		d, err := base64.StdEncoding.DecodeString(*s.DataBase64)
		if err != nil {
			return e, badRequest(index, "data_base64", "data_base64 is not base64: %v", err)
		}
		if e.JSONData() && len(d) > 0 && !json.Valid(d) {
			return e, badRequest(index, "data_base64", "data_base64 holds malformed JSON (content type %q)", e.DataContentType)
		}
		e.Data = d
	case len(s.Data) > 0 && !bytes.Equal(s.Data, []byte("null")):
		if e.JSONData() {
			e.Data = s.Data
		} else {
			// Non-JSON data in structured mode is a JSON string.
			var txt string
			if err := json.Unmarshal(s.Data, &txt); err != nil {
				return e, badRequest(index, "data", "data with content type %q must be a JSON string or data_base64", e.DataContentType)
			}
			e.Data = []byte(txt)
		}
	}
	return e, nil
}

// maxAttr bounds the attributes that become database keys.
const maxAttr = 1024

func (e *Event) check(index int, prefix string) error {
	for _, a := range []struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"specversion", e.SpecVersion}, {"type", e.Type}} {
		if a.v == "" {
			return badRequest(index, prefix+a.name, "missing required CloudEvents attribute %q", prefix+a.name)
		}
		if len(a.v) > maxAttr {
			return badRequest(index, prefix+a.name, "attribute %q longer than %d bytes", prefix+a.name, maxAttr)
		}
	}
	for _, a := range []struct{ name, v string }{{"id", e.ID}, {"source", e.Source}, {"type", e.Type}, {"subject", e.Subject}, {"datacontenttype", e.DataContentType}} {
		if !utf8.ValidString(a.v) || strings.ContainsRune(a.v, 0) {
			return badRequest(index, prefix+a.name, "attribute %q is not valid UTF-8 text", prefix+a.name)
		}
	}
	if e.SpecVersion != "1.0" {
		return badRequest(index, prefix+"specversion", "specversion %q: only CloudEvents 1.0 is accepted", e.SpecVersion)
	}
	return nil
}
