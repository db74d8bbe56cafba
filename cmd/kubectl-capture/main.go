// Command kubectl-capture is a kubectl plugin (kubectl capture POD ...) that
// captures a pod's system calls with syscope on the pod's node and brings the
// capture file home. The work is done by package internal/kubecapture.
package main

import (
	"os"

	"github.com/syscope/syscope/internal/kubecapture"
)

func main() {
	os.Exit(kubecapture.Main(os.Args[1:], os.Stdout, os.Stderr))
}
