// Package testregistry starts go-containerregistry's in-process registry
// for unit tests. It is apart from testtools, which links cosign, so the
// light packages' tests stay light.
package testregistry

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// New serves a quiet in-memory registry on loopback for the test and
// returns its host:port. Images on it travel over real HTTP.
func New(t testing.TB, opts ...registry.Option) string {
	t.Helper()
	s := httptest.NewServer(registry.New(append([]registry.Option{registry.Logger(log.New(io.Discard, "", 0))}, opts...)...))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}
