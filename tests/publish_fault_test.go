package tests

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestFailedPublishLeavesNoTag puts a proxy in front of the real registry
// that refuses every image index upload: blobs and platform manifests
// arrive, the index never does, and no tag may point anywhere.
func TestFailedPublishLeavesNoTag(t *testing.T) {
	reg := registry(t)
	target, _ := url.Parse("http://" + reg)
	var refused atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") &&
			strings.Contains(r.Header.Get("Content-Type"), "image.index") {
			refused.Add(1)
			http.Error(w, "index uploads are failing", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	src := copyExample(t)
	r := paved(t, nil, "build", "--source", src, "--image", host+"/demo/svc", "--cache-dir", t.TempDir())
	if r.code != 1 || !strings.Contains(r.stderr, host) {
		t.Fatalf("exit %d, want 1 and a message naming %s:\n%s", r.code, host, r.stderr)
	}
	if refused.Load() < 2 {
		t.Errorf("the index upload was tried %d times, want retries", refused.Load())
	}
	_, err := remote.Head(mustRef(t, reg+"/demo/svc:latest"))
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Fatalf("the tag exists after a failed publish (err = %v)", err)
	}
}
