package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// RedactURL removes the user information (user, password, token) from every
// URL in s: a single URL, a list such as GOPROXY's
// ("https://u:p@a,direct|https://b"), or a line of text that quotes URLs,
// such as a go command's error. It is the one place paved strips
// credentials before a string reaches a report, a log, an annotation, the
// step cache or an attestation. Everything but the user information stays,
// so the result still says which host was meant.
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s // scp-like git@host:path names a user, not a secret
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		// The authority ends where the path, query or fragment starts, or
		// at anything that separates URLs in a list or a sentence.
		end := strings.IndexFunc(s, endsAuthority)
		if end < 0 {
			end = len(s)
		}
		// The last @ ends the user information: a password may hold an @.
		if at := strings.LastIndexByte(s[:end], '@'); at >= 0 {
			s = s[at+1:]
		}
	}
}

// endsAuthority reports whether r ends a URL's authority: the start of its
// path, query or fragment, or what cannot be in a URL and so ends it in a
// sentence. List separators such as GOPROXY's ',' and '|' may be part of a
// password, so they do not: in a list, an authority runs on into the next
// entry up to its "//", which keeps every '@' of the first one in reach.
func endsAuthority(r rune) bool {
	switch r {
	case '/', '?', '#', '\\', '"', '`', '<', '>', ' ':
		return true
	}
	return r < 0x20 || r == 0x7f
}

// redactResult is r with no URL credentials in its value or summary: the
// step cache is a directory that CI uploads and shares between runs.
func redactResult(r *Result) (*Result, error) {
	v, err := redactJSON(r.Value)
	if err != nil {
		return nil, fmt.Errorf("redacting the result of a step: %w", err)
	}
	out := *r
	out.Value, out.Summary = v, RedactURL(r.Summary)
	return &out, nil
}

// redactJSON applies RedactURL to every string in a JSON document. A
// document with no URL comes back untouched, byte for byte.
func redactJSON(raw json.RawMessage) (json.RawMessage, error) {
	if !bytes.Contains(raw, []byte("://")) {
		return raw, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(redactAny(v))
}

func redactAny(v any) any {
	switch x := v.(type) {
	case string:
		return RedactURL(x)
	case []any:
		for i := range x {
			x[i] = redactAny(x[i])
		}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[RedactURL(k)] = redactAny(e)
		}
		return m
	}
	return v
}

// Redact strips URL credentials from every string the report holds: step
// errors, test output, warnings, the source repository. Front doors call
// it (pipelines do, after filling the report) before writing or printing.
func (r *Report) Redact() { redactValue(reflect.ValueOf(r)) }

// redactValue rewrites, in place, every string reachable from v through
// pointers, structs, slices and maps (the report holds no interfaces).
func redactValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			redactValue(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				redactValue(f)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes, not text
		}
		for i := range v.Len() {
			redactValue(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			redactValue(e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(RedactURL(v.String()))
		}
	}
}
