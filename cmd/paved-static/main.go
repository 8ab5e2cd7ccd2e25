// Command paved-static serves a directory of built web files: the server
// of the frontend golden path's images. See package static.
package main

import (
	"os"

	"github.com/pavedhq/paved/modules/build/static"
)

func main() { os.Exit(static.Main(os.Args[1:])) }
