package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pavedhq/paved/dora"
)

// maxAnswer bounds what the client reads: a year of daily rows for a few
// hundred services is a few megabytes.
const maxAnswer = 256 << 20

// Client reads a collector's JSON API as a dora.Metrics.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

var _ dora.Metrics = (*Client)(nil)

// NewClient returns a client of the collector at base (its root URL) that
// sends token as a bearer token. The token travels only over https, or
// plain http to loopback; base may hold no credentials.
func NewClient(base, token string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("collector URL: %w", err)
	}
	switch {
	case u.User != nil:
		return nil, fmt.Errorf("collector URL %s: credentials in the URL; pass the token from the environment instead", u.Redacted())
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return nil, fmt.Errorf("collector URL %s: want http(s)://host[:port]", u.Redacted())
	case u.Scheme == "http" && token != "" && !loopback(u.Hostname()):
		return nil, fmt.Errorf("collector URL %s: the token would travel in clear; use https (plain http only on loopback)", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, token: token, http: &http.Client{Timeout: time.Minute}}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Metrics asks GET /v1/metrics. q.Teams is not sent: the token decides.
func (c *Client) Metrics(ctx context.Context, q dora.Query) (*dora.Report, error) {
	var d decoded
	if err := c.get(ctx, "/v1/metrics", Values(q), &d); err != nil {
		return nil, err
	}
	return d.report(), nil
}

// Teams asks GET /v1/teams.
func (c *Client) Teams(ctx context.Context) ([]dora.Team, error) {
	var d struct {
		Teams []dora.Team `json:"teams"`
	}
	if err := c.get(ctx, "/v1/teams", nil, &d); err != nil {
		return nil, err
	}
	return d.Teams, nil
}

func (c *Client) get(ctx context.Context, path string, v url.Values, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("collector %s: %w", c.base.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return fmt.Errorf("collector %s%s: reading the answer: %w", c.base.Redacted(), path, err)
	}
	if len(body) > maxAnswer {
		return fmt.Errorf("collector %s%s: answer larger than %d MiB", c.base.Redacted(), path, maxAnswer>>20)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		if ra := resp.Header.Get("Retry-After"); resp.StatusCode == http.StatusTooManyRequests && ra != "" {
			msg += " (retry after " + ra + "s)"
		}
		return &StatusError{Code: resp.StatusCode, Msg: fmt.Sprintf("collector %s%s: %s: %s", c.base.Redacted(), path, resp.Status, msg)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("collector %s%s: malformed answer: %w", c.base.Redacted(), path, err)
	}
	return nil
}

// StatusError is a collector's refusal, with its HTTP status.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }
