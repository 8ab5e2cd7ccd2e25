package version

import (
	"runtime"
	"testing"
)

func TestGet(t *testing.T) {
	if got := Get("").Version; got != "dev" {
		t.Errorf("Get(\"\").Version = %q, want dev", got)
	}
	info := Get("v1.2.3")
	if info.Version != "v1.2.3" || info.GoVersion != runtime.Version() ||
		info.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("Get(v1.2.3) = %+v", info)
	}
}
