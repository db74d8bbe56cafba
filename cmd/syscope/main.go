// Command syscope captures and reads system calls with their container and
// Kubernetes context. Its command line, output and files are sysdig's.
//
// Setting SYSCOPE_CPUPROFILE=FILE writes a Go CPU profile of the run to FILE
// (for `go tool pprof`).
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/syscope/syscope/internal/cli"
)

func main() {
	if p := os.Getenv("SYSCOPE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "syscope: SYSCOPE_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "syscope: SYSCOPE_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
		code := cli.Main(os.Args[1:], os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
