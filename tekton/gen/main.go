// Command gen writes the Tekton Tasks, Pipelines and examples that package
// tekton generates. Run it from the tekton directory: go generate ./tekton.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pavedhq/paved/tekton"
)

func main() {
	dir := flag.String("dir", ".", "the tekton directory to write into")
	flag.Parse()
	if err := tekton.Write(*dir); err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
}
