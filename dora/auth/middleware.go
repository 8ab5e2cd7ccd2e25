package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type claimsKey struct{}

// FromContext returns the claims Require put in a request's context.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// WithClaims returns ctx carrying c, for handlers called without Require
// (tests, or a server that trusts its callers).
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Require wraps next so it runs only for a known token with the right,
// within the token's rate: otherwise 401 (no token, or one not in the set),
// 403 (a token without the right) or 429 with Retry-After (over its rate).
// The token comes as "Authorization: Bearer T", or as Basic credentials
// whose password is T so a browser can open the dashboard.
func (s *Set) Require(right Right, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, problem := credentials(r)
		if problem != "" {
			w.Header().Add("WWW-Authenticate", `Bearer realm="paved dora"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="paved dora", charset="UTF-8"`)
			Error(w, http.StatusUnauthorized, problem)
			return
		}
		// A map keyed by the hash: the lookup's timing depends on the
		// hash, which tells an attacker nothing about a valid token.
		e, ok := s.byHash[sha256.Sum256([]byte(token))]
		if !ok && !s.failures.Allow() {
			w.Header().Set("Retry-After", "1")
			Error(w, http.StatusTooManyRequests, "too many requests with unknown tokens")
			return
		}
		if !ok {
			w.Header().Add("WWW-Authenticate", `Bearer realm="paved dora", error="invalid_token"`)
			Error(w, http.StatusUnauthorized, "token not recognised (the server's tokens file has no token with its sha256)")
			return
		}
		if !e.claims.Can(right) {
			Error(w, http.StatusForbidden, fmt.Sprintf("token %s lacks the %s right", e.claims.Name, right))
			return
		}
		res := e.limiter.Reserve()
		if d := res.Delay(); !res.OK() || d > 0 {
			res.Cancel()
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter(res.OK(), d)))
			Error(w, http.StatusTooManyRequests, fmt.Sprintf("token %s is over its rate limit", e.claims.Name))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), &e.claims)))
	})
}

// retryAfter is whole seconds, rounded up and at least 1, as the header
// takes them.
func retryAfter(ok bool, d time.Duration) int {
	if !ok || d > 24*time.Hour {
		return 86400
	}
	return max(1, int(math.Ceil(d.Seconds())))
}

// credentials finds the token in the Authorization header, or says what is
// wrong with it.
func credentials(r *http.Request) (token, problem string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "missing token: send Authorization: Bearer <token>"
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if rest == "" {
			return "", "empty bearer token"
		}
		return rest, ""
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", "malformed Basic credentials"
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		if !ok || pass == "" {
			return "", "Basic credentials need the token as the password"
		}
		return pass, ""
	default:
		return "", "unsupported Authorization scheme: send Authorization: Bearer <token>"
	}
}

// Error writes {"error": msg} with the status: the one error shape of the
// collector's JSON API.
func Error(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
