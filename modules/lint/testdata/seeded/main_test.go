package main

import "testing"

// The tests are not linted: this file adds no finding.
func TestLabel(t *testing.T) {
	if got := label("svc"); got != "svc" {
		t.Fatalf("label = %q", got)
	}
	if len(sessionID()) != 16 {
		t.Fatal("sessionID is not 16 hex digits")
	}
}
