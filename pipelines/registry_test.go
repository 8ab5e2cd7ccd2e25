package pipelines

import (
	"context"
	"testing"
)

// Config validation checks golden path names against the registry; real
// paths register from their own packages, which these tests do not import.
func init() {
	Register("go-service", func(context.Context, Options) (*Run, error) { return nil, nil }, true)
	Register("go-build", func(context.Context, Options) (*Run, error) { return nil, nil }, false)
}

func TestNamesListsOnlyListedPaths(t *testing.T) {
	names := Names()
	if len(names) != 1 || names[0] != "go-service" || Lookup("go-build") == nil || Lookup("nope") != nil {
		t.Fatalf("Names() = %v", names)
	}
}
