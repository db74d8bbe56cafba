// Command syscope captures and reads system calls with their container and
// Kubernetes context. Its command line, output and files are sysdig's.
package main

import (
	"os"

	"github.com/syscope/syscope/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
