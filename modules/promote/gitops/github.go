package gitops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultGitHubAPI is GitHub's REST API; GitHub Enterprise Server has its
// own at https://HOST/api/v3.
const DefaultGitHubAPI = "https://api.github.com"

// PullRequest is a pull request to open on GitHub.
type PullRequest struct {
	APIURL string // default DefaultGitHubAPI
	Token  string // sent as a bearer token, never written into errors
	Repo   string // owner/name
	Head   string // the branch with the change, or owner:branch from a fork
	Base   string // the branch to merge into
	Title  string
	Body   string
	// Client sends the requests; default one with time-outs (see
	// Timeout) that follows no redirect to plain HTTP. Deadlines also
	// come from the context.
	Client *http.Client
}

// OpenedPullRequest is a pull request that is open.
type OpenedPullRequest struct {
	Number int
	URL    string // the page people read (html_url)
	// Existing says it was open already for the same head and base, and
	// nothing was created.
	Existing bool
}

// APIError is a GitHub API call that failed.
type APIError struct {
	Method, Path string
	StatusCode   int
	Message      string // GitHub's message and its validation errors
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("github: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// retryDelays are the waits before each retry of a call GitHub answered
// with a 5xx or 429 (Retry-After, when given and at most maxRetryAfter,
// wins). Tests shorten them.
var retryDelays = []time.Duration{time.Second, 4 * time.Second}

const maxRetryAfter = time.Minute

var repoNameRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)

// OpenPullRequest opens a pull request through the GitHub REST API
// (POST /repos/{owner}/{repo}/pulls). When GitHub answers that one is
// already open for the head, it looks that one up and returns it with
// Existing set, so opening is idempotent. Calls answered with a 5xx or a
// 429 are retried twice with backoff; any other failure is an *APIError.
func OpenPullRequest(ctx context.Context, pr PullRequest) (*OpenedPullRequest, error) {
	if err := pr.validate(); err != nil {
		return nil, err
	}
	c := ghClient{api: strings.TrimRight(pr.APIURL, "/"), token: pr.Token, http: pr.Client}
	if c.api == "" {
		c.api = DefaultGitHubAPI
	}
	if c.http == nil {
		c.http = defaultClient()
	}
	owner, _, _ := strings.Cut(pr.Repo, "/")
	pulls := "/repos/" + pr.Repo + "/pulls"

	var created struct {
		Number  int    `json:"number"`
		HTMLURL string `json:"html_url"`
	}
	err := c.call(ctx, http.MethodPost, pulls, map[string]string{
		"title": pr.Title, "head": pr.Head, "base": pr.Base, "body": pr.Body,
	}, &created)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity && strings.Contains(apiErr.Message, "already exists") {
		head := pr.Head
		if !strings.Contains(head, ":") {
			head = owner + ":" + head
		}
		q := url.Values{"head": {head}, "base": {pr.Base}, "state": {"open"}}
		var open []struct {
			Number  int    `json:"number"`
			HTMLURL string `json:"html_url"`
		}
		if lerr := c.call(ctx, http.MethodGet, pulls+"?"+q.Encode(), nil, &open); lerr != nil {
			return nil, fmt.Errorf("%w; looking it up: %w", err, lerr)
		}
		if len(open) == 0 {
			return nil, fmt.Errorf("%w; but no open pull request has head %s and base %s", err, head, pr.Base)
		}
		return &OpenedPullRequest{Number: open[0].Number, URL: open[0].HTMLURL, Existing: true}, nil
	}
	if err != nil {
		return nil, err
	}
	if created.Number == 0 {
		return nil, fmt.Errorf("github: POST %s: the answer names no pull request", pulls)
	}
	return &OpenedPullRequest{Number: created.Number, URL: created.HTMLURL}, nil
}

func (pr PullRequest) validate() error {
	var errs []error
	if pr.Token == "" {
		errs = append(errs, errors.New("no GitHub token given"))
	}
	if _, name, _ := strings.Cut(pr.Repo, "/"); !repoNameRE.MatchString(pr.Repo) || name == "." || name == ".." {
		errs = append(errs, fmt.Errorf("repository %q is not owner/name", pr.Repo))
	}
	if pr.Head == "" || pr.Base == "" || pr.Title == "" {
		errs = append(errs, errors.New("a pull request needs a head branch, a base branch and a title"))
	}
	if pr.APIURL != "" {
		if err := CheckAPIURL(pr.APIURL); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckAPIURL accepts a GitHub API URL that keeps the token secret: https,
// or plain http on loopback only (a local stand-in), and no credentials
// in the URL itself. Errors never repeat the URL's user information.
func CheckAPIURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") {
		// url.Parse's error quotes the URL, user information and all.
		return errors.New("GitHub API URL is not an https URL")
	}
	where := u.Scheme + "://" + u.Host
	switch {
	case u.User != nil:
		return fmt.Errorf("GitHub API URL %s: credentials in the URL are refused; the token is sent as a header", where)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return fmt.Errorf("GitHub API URL %s: the token would travel in clear; use https (plain http only on loopback)", where)
	}
	return nil
}

// loopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Timeout bounds one GitHub API call, answer included; the connection has
// its own shorter time-outs.
var Timeout = 30 * time.Second

// defaultClient has time-outs (http.DefaultClient has none) and refuses a
// redirect that would carry the token to plain http off loopback.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = Timeout
	return &http.Client{
		Transport: t,
		Timeout:   Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			if req.URL.Scheme != "https" && !loopback(req.URL.Hostname()) {
				return fmt.Errorf("refused a redirect to %s://%s: the token would travel in clear", req.URL.Scheme, req.URL.Host)
			}
			return nil
		},
	}
}

type ghClient struct {
	api, token string
	http       *http.Client
}

// call sends one API request (retrying on 5xx and 429) and decodes a 2xx
// answer into out.
func (c ghClient) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for attempt := 0; ; attempt++ {
		status, data, retryAfter, err := c.once(ctx, method, path, body)
		if err != nil {
			return c.redact(fmt.Errorf("github: %s %s: %w", method, path, err))
		}
		if status >= 200 && status < 300 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("github: %s %s: read the answer: %w", method, path, err)
			}
			return nil
		}
		apiErr := &APIError{Method: method, Path: path, StatusCode: status, Message: c.redactString(githubMessage(data))}
		if (status < 500 && status != http.StatusTooManyRequests) || attempt >= len(retryDelays) {
			return apiErr
		}
		wait := retryDelays[attempt]
		if retryAfter > maxRetryAfter {
			return apiErr
		} else if retryAfter > 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting to retry: %w)", apiErr, ctx.Err())
		case <-t.C:
		}
	}
}

// once sends one request and reads the answer (at most 1 MiB of it).
func (c ghClient) once(ctx context.Context, method, path string, body []byte) (status int, data []byte, retryAfter time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "paved")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, 0, err
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, data, retryAfter, nil
}

// githubMessage is the message of a GitHub error answer and the messages
// of its validation errors, or the start of the answer if it is not one.
func githubMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Message string `json:"message"`
			Code    string `json:"code"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal(data, &e) != nil || e.Message == "" {
		s := strings.Join(strings.Fields(string(data)), " ")
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		return s
	}
	var details []string
	for _, d := range e.Errors {
		switch {
		case d.Message != "":
			details = append(details, d.Message)
		case d.Field != "":
			details = append(details, d.Field+" "+d.Code)
		}
	}
	if len(details) > 0 {
		return e.Message + " (" + strings.Join(details, "; ") + ")"
	}
	return e.Message
}

// redact keeps the token out of errors, whatever echoed it.
func (c ghClient) redact(err error) error {
	if s := err.Error(); strings.Contains(s, c.token) {
		return errors.New(c.redactString(s))
	}
	return err
}

func (c ghClient) redactString(s string) string {
	if c.token == "" {
		return s
	}
	return strings.ReplaceAll(s, c.token, "[token]")
}
