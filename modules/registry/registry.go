package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Time-outs of one connection to a registry. DialTimeout makes an
// unreachable registry fail in seconds rather than when the operating
// system gives up; ResponseHeaderTimeout bounds the wait after a request
// is sent (a registry may take a while to commit a large blob, so it is
// generous). Bodies have no time-out: a context bounds the whole call.
const (
	DialTimeout           = 5 * time.Second
	TLSHandshakeTimeout   = 10 * time.Second
	ResponseHeaderTimeout = 2 * time.Minute
)

// UserAgent goes before go-containerregistry's own in every request.
const UserAgent = "paved"

// Attempts is how many times one registry request is sent at most: the
// first try and four retries, about 7.5 s of back-off in all.
const Attempts = 5

// Backoff spaces the attempts: 0.5 s, 1 s, 2 s, 4 s (±10%).
var Backoff = remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: Attempts}

// RetryStatusCodes are the answers worth asking again: the registry or a
// proxy in front of it is overloaded, restarting or timed out.
var RetryStatusCodes = []int{
	http.StatusRequestTimeout,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
}

// Options are paved's defaults for a call to a registry, followed by opts,
// which win: ctx, the default keychain, Transport, the retry policy
// (Backoff, RetryStatusCodes, Retryable) and the user agent.
//
// go-containerregistry refuses both an authenticator and a keychain in one
// call: to give credentials, pass WithAuth rather than remote.WithAuth.
func Options(ctx context.Context, opts ...remote.Option) []remote.Option {
	return append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(Transport()),
		remote.WithRetryBackoff(Backoff),
		remote.WithRetryStatusCodes(RetryStatusCodes...),
		remote.WithRetryPredicate(Retryable),
		remote.WithUserAgent(UserAgent),
	}, opts...)
}

// WithAuth uses a for every registry instead of the default keychain.
func WithAuth(a authn.Authenticator) remote.Option {
	return remote.WithAuthFromKeychain(fixed{a})
}

type fixed struct{ a authn.Authenticator }

func (f fixed) Resolve(authn.Resource) (authn.Authenticator, error) { return f.a, nil }

// Retryable reports whether a failed registry request may succeed if sent
// again: a status in RetryStatusCodes (or one go-containerregistry calls
// temporary), a time-out, or a connection that was dropped or reset. A
// definite answer (unauthorised, forbidden, not found, invalid) and a
// cancelled or expired context are not retried.
//
// It looks into joined errors: go-containerregistry pings a loopback
// registry over https and http at once and returns both failures, and a
// 503 among them is worth a retry.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return slices.Contains(RetryStatusCodes, te.StatusCode) || te.Temporary()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// Transport is the HTTP transport for registries: go-containerregistry's
// DefaultTransport (proxy from the environment, HTTP/2) with the
// time-outs above, sending plain HTTP only to loopback. It is one for the
// process, so connections are reused from call to call.
func Transport() http.RoundTripper { return shared() }

var shared = sync.OnceValue(func() http.RoundTripper { return loopbackHTTP{Base()} })

// Base is Transport without the plain-HTTP guard, for a library user
// whose registry on a private network speaks only HTTP:
// Options(ctx, remote.WithTransport(registry.Base())).
func Base() *http.Transport {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = TLSHandshakeTimeout
	t.ResponseHeaderTimeout = ResponseHeaderTimeout
	return t
}

// loopbackHTTP refuses plain HTTP to anything but loopback.
// go-containerregistry falls back to http for private (RFC 1918) addresses
// and .local names too, which would send credentials in clear on a
// network; it also guards redirects to storage.
type loopbackHTTP struct{ base http.RoundTripper }

func (t loopbackHTTP) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && !IsLoopback(r.URL.Hostname()) {
		return nil, fmt.Errorf("registry %s: plain HTTP is used only on loopback; serve it over https", r.URL.Host)
	}
	return t.base.RoundTrip(r)
}

// IsLoopback reports whether host (no port) is localhost or a loopback
// address (127.0.0.0/8, ::1).
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
