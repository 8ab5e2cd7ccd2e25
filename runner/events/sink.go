package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/binding/format"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/pavedhq/paved/internal/flock"
)

// TokenEnv holds the bearer token sent to HTTP sinks. It is read from the
// environment, never stored in the spool or written anywhere.
const TokenEnv = "PAVED_EVENTS_TOKEN"

// Sink is where events go. Send returns nil only once the sink holds the
// event: a 2xx, a synced write.
type Sink interface {
	Send(ctx context.Context, ev *Event) error
	// String names the sink in warnings, without credentials.
	String() string
}

// RejectedError is a sink refusing an event for what it is (HTTP 400,
// 413, 415, 422): sending it again would be refused again.
type RejectedError struct {
	Status int
	Body   string
}

func (e *RejectedError) Error() string {
	return strings.TrimSpace(fmt.Sprintf("%d %s", e.Status, clip(e.Body)))
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Spec is a sink as a string: "stdout", "file:PATH", an http(s) URL (binary
// mode), or structured+URL (structured mode; binary+URL says binary
// explicitly). The spool stores specs, never credentials.
type Spec string

// Mode is an HTTP sink's CloudEvents content mode.
type Mode string

const (
	Binary     Mode = "binary"
	Structured Mode = "structured"
)

// ParseSpec checks a sink given by a user and makes file paths absolute,
// so the spool can deliver to the same file from any directory.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("empty events sink")
	case s == "stdout":
		return Spec(s), nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" {
			return "", fmt.Errorf("events sink %q: file: needs a path", s)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("events sink %q: %w", s, err)
		}
		return Spec("file:" + abs), nil
	}
	if _, _, err := splitHTTP(s); err != nil {
		return "", err
	}
	return Spec(s), nil
}

// splitHTTP reads [structured+|binary+]http(s)://... .
func splitHTTP(s string) (Mode, *url.URL, error) {
	mode := Binary
	raw := s
	if m, rest, ok := strings.Cut(s, "+"); ok && (m == string(Binary) || m == string(Structured)) {
		mode, raw = Mode(m), rest
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("events sink %q: want stdout, file:PATH or an http(s) URL (structured+URL for structured mode)", redactQuery(s))
	}
	if u.User != nil {
		return "", nil, fmt.Errorf("events sink %s: credentials in the URL are refused (they would be stored in the spool); put a token in %s", redactQuery(u.Redacted()), TokenEnv)
	}
	return mode, u, nil
}

// redactQuery hides a URL's query, which may carry a token, in messages.
func redactQuery(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i] + "?…"
	}
	return s
}

// Open makes the sink for spec. token is sent to HTTP sinks as a bearer
// token; stdout is where the stdout sink writes.
func (s Spec) Open(token string, stdout io.Writer) (Sink, error) {
	switch {
	case s == "stdout":
		return &writerSink{w: stdout, name: "stdout"}, nil
	case strings.HasPrefix(string(s), "file:"):
		return &fileSink{path: strings.TrimPrefix(string(s), "file:")}, nil
	}
	mode, u, err := splitHTTP(string(s))
	if err != nil {
		return nil, err
	}
	return NewHTTPSink(u.String(), mode, token)
}

// HTTPSink posts each event to a URL in binary or structured mode.
type HTTPSink struct {
	url    string
	mode   Mode
	token  string
	client *http.Client
}

// NewHTTPSink sends to u. A token goes only over https or to a loopback
// address, never over plain http to another host.
func NewHTTPSink(u string, mode Mode, token string) (*HTTPSink, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("events sink %s: %w", redactQuery(u), err)
	}
	if token != "" && pu.Scheme != "https" && !loopback(pu.Hostname()) {
		return nil, fmt.Errorf("events sink %s: %s is sent only over https or to loopback", redactQuery(u), TokenEnv)
	}
	return &HTTPSink{url: u, mode: mode, token: token, client: &http.Client{
		Timeout: 10 * time.Second,
		// A redirect would carry the token elsewhere: it is a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (h *HTTPSink) String() string {
	s := redactQuery(h.url)
	if h.mode == Structured {
		return "structured+" + s
	}
	return s
}

func (h *HTTPSink) Send(ctx context.Context, ev *Event) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, nil)
	if err != nil {
		return err
	}
	if h.mode == Structured {
		ctx = binding.WithForceStructured(binding.UseFormatForEvent(ctx, format.JSON))
	} else {
		ctx = binding.WithForceBinary(ctx)
	}
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(ev), req); err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID(), err)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		// The error quotes the URL, whose query may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	msg := strings.TrimSpace(string(bytes.ToValidUTF8(body, nil)))
	switch resp.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return &RejectedError{Status: resp.StatusCode, Body: msg}
	}
	return errors.New(strings.TrimSpace(resp.Status + " " + clip(msg)))
}

// fileSink appends structured JSON lines to a file, locked so concurrent
// processes never interleave, and synced before it reports success.
type fileSink struct{ path string }

func (f *fileSink) String() string { return "file:" + f.path }

func (f *fileSink) Send(_ context.Context, ev *Event) error {
	b, err := ev.MarshalJSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return fmt.Errorf("events file %s: %w", f.path, err)
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("events file %s: %w", f.path, err)
	}
	defer fh.Close()
	if err := flock.Exclusive(fh); err != nil {
		return fmt.Errorf("events file %s: %w", f.path, err)
	}
	if _, err := fh.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("events file %s: %w", f.path, err)
	}
	if err := fh.Sync(); err != nil {
		return fmt.Errorf("events file %s: %w", f.path, err)
	}
	return nil
}

// writerSink writes structured JSON lines to a writer (stdout).
type writerSink struct {
	mu   sync.Mutex
	w    io.Writer
	name string
}

func (s *writerSink) String() string { return s.name }

func (s *writerSink) Send(_ context.Context, ev *Event) error {
	b, err := ev.MarshalJSON()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.w.Write(append(b, '\n'))
	return err
}
