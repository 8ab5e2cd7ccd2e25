// Command testcollector serves the collector's ingest handler on a store,
// nothing else: the crash tests build it, kill it with SIGKILL in the middle
// of a burst of requests and start it again on the same database.
//
//	testcollector -db DSN
//
// It listens on a free loopback port and prints "listening on ADDR".
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/pavedhq/paved/dora/ingest"
	"github.com/pavedhq/paved/dora/store"
)

func main() {
	db := flag.String("db", "", "database: SQLite file or postgres:// URL")
	flag.Parse()
	st, err := store.Open(context.Background(), *db)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", l.Addr())
	mux := http.NewServeMux()
	mux.Handle("POST /v1/events", ingest.Handler(st, ingest.Options{}))
	fmt.Fprintln(os.Stderr, http.Serve(l, mux))
	os.Exit(1)
}
