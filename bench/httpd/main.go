// Command httpd is a minimal HTTP server on loopback for bench/live.sh: it
// answers every request with a small fixed body.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "address to serve (loopback only)")
	flag.Parse()
	body := []byte("hello from syscope's benchmark server\n")
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
	log.Fatal(http.ListenAndServe(*addr, nil))
}
