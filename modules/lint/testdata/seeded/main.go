// Command seeded carries one finding for each tool, for the gate's tests.
package main

import (
	"fmt"
	"math/rand"
	"os"
)

// sessionID should come from crypto/rand: gosec G404.
func sessionID() string {
	return fmt.Sprintf("%016x", rand.Uint64())
}

// label's first assignment is never read: staticcheck SA4006.
func label(name string) string {
	l := name + "-default"
	l = name
	return l
}

func main() {
	fmt.Fprintln(os.Stdout, label("svc"), sessionID())
}
