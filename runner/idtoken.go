package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// ErrNoIDToken means the host offers no OIDC token for keyless signing.
var ErrNoIDToken = errors.New("no OIDC token: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with permissions id-token: write")

// IDToken returns an OIDC token for audience (sigstore signs with
// "sigstore"): SIGSTORE_ID_TOKEN when set, else GitHub Actions' token
// service. The token is a secret: callers must not log it.
func IDToken(ctx context.Context, audience string) (string, error) {
	src, err := IDTokenSource(audience, os.Getenv)
	if err != nil {
		return "", err
	}
	return src(ctx)
}

// A TokenSource returns an OIDC token when called.
type TokenSource func(ctx context.Context) (string, error)

// IDTokenSource reads, now, where the token for audience comes from
// (getenv looks up SIGSTORE_ID_TOKEN and GitHub Actions' variables), and
// returns a source that asks for the token only when called. Tokens live
// minutes and a golden path tests and builds first: keyless signing calls
// the source when signing starts. Since the variables are read now, the
// caller can remove them from the environment before any step runs.
// ErrNoIDToken when the host offers no token.
func IDTokenSource(audience string, getenv func(string) string) (TokenSource, error) {
	if t := getenv("SIGSTORE_ID_TOKEN"); t != "" {
		return func(context.Context) (string, error) { return t, nil }, nil
	}
	reqURL, reqToken := getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if reqURL == "" || reqToken == "" {
		return nil, ErrNoIDToken
	}
	return func(ctx context.Context) (string, error) { return actionsIDToken(ctx, audience, reqURL, reqToken) }, nil
}

// actionsIDToken asks GitHub Actions' token service for a token.
func actionsIDToken(ctx context.Context, audience, reqURL, reqToken string) (string, error) {
	u, err := url.Parse(reqURL)
	if err != nil {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL: %w", err)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("requesting an OIDC token from GitHub Actions (%s): %w", u.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("requesting an OIDC token from GitHub Actions (%s): %s", u.Host, resp.Status)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return "", fmt.Errorf("GitHub Actions' token service (%s) answered without a token", u.Host)
	}
	return v.Value, nil
}
