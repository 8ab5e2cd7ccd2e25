package build

import (
	"context"
	"strings"
	"testing"
)

func TestMinimalKeyIsStableAndNamesTheContent(t *testing.T) {
	ctx := context.Background()
	k1, err := CacheKey(ctx, Minimal())
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := CacheKey(ctx, Minimal())
	if k1 != k2 || !strings.HasPrefix(k1, MinimalName+"/"+minimalFormat+":sha256:") {
		t.Fatalf("keys %q, %q", k1, k2)
	}
}
