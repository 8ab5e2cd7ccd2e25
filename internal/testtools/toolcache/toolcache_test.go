package toolcache

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCosignV3MatchesGoMod keeps the reference CLI at the cosign release
// paved links.
func TestCosignV3MatchesGoMod(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/sigstore/cosign/v3").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != CosignV3 {
		t.Errorf("go.mod requires cosign %s; CosignV3 is %s", got, CosignV3)
	}
}

// TestToolsListsCosign: CI builds every cosign the tests ask for.
func TestToolsListsCosign(t *testing.T) {
	for _, v := range []string{CosignV3, CosignV2} {
		want := Cosign(v)
		found := false
		for _, tool := range Tools {
			found = found || tool == want
		}
		if !found {
			t.Errorf("Tools lacks %+v", want)
		}
	}
	if got := Cosign("v2.6.2").Pkg; got != "github.com/sigstore/cosign/v2/cmd/cosign" {
		t.Errorf("cosign v2 package = %s", got)
	}
}
