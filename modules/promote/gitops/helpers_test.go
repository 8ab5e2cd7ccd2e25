package gitops

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

// digest is a realistic sha256 digest named by seed.
func digest(seed string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(seed)))
}

var (
	oldDigest = digest("old build")
	newDigest = digest("new build")
	api       = Image{Repository: "ghcr.io/acme/api", Digest: newDigest}
)

// lineDiff counts the lines of a that b drops and the lines b adds, by a
// longest common subsequence of lines, as diff does: (1, 1) is one
// changed line, (0, 1) one inserted line.
func lineDiff(a, b []byte) (removed, added int) {
	r, ad := diffLines(strings.Split(string(a), "\n"), strings.Split(string(b), "\n"))
	return len(r), len(ad)
}

// diffLines returns the lines of a not in b's common subsequence with it,
// and those of b not in it.
func diffLines(a, b []string) (removed, added []string) {
	// lcs[i][j] is the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			removed = append(removed, a[i])
			i++
		default:
			added = append(added, b[j])
			j++
		}
	}
	return append(removed, a[i:]...), append(added, b[j:]...)
}

// replaceLine returns s with its one line old replaced by new, failing the
// test if old is not exactly one line of s.
func replaceLine(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("fixture has %q %d times", old, n)
	}
	return strings.Replace(s, old, new, 1)
}
