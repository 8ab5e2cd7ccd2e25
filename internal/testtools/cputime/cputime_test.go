//go:build unix

package cputime

import (
	"crypto/sha256"
	"os/exec"
	"testing"

	"github.com/pavedhq/paved/internal/testtools/ci"
)

// Work in this process and in a child it waited for both count.
func TestUsed(t *testing.T) {
	start := Used(t)
	sum := sha256.Sum256(nil)
	for range 200_000 {
		sum = sha256.Sum256(sum[:])
	}
	self := Used(t)
	if self <= start {
		t.Errorf("after hashing: %v, not more than %v", self, start)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		ci.Unavailable(t, "no sh to run a child: %v", err)
	}
	if err := exec.Command(sh, "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done").Run(); err != nil {
		t.Fatal(err)
	}
	if after := Used(t); after <= self {
		t.Errorf("after a child's loop: %v, not more than %v", after, self)
	}
}
