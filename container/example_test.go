package container_test

import (
	"context"
	"fmt"
	"os"

	"github.com/syscope/syscope/container"
	"github.com/syscope/syscope/container/runtimes"
)

// The live capture's use of the package: open the runtimes once, ask for
// the container of each new thread, and turn the answers into container
// events between two events of the capture.
func Example() {
	// --cri and --docker would add container.WithCRISocket(...) and
	// container.WithDockerSocket(...).
	srcs, errs := runtimes.Open(context.Background(), container.Detect(), 0)
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, "container runtime not available:", err)
	}
	r := container.NewResolver(srcs)
	defer r.Close()

	// For a new thread, with its cgroups as in the capture:
	cgroups := []string{"cpu=/default/web", "memory=/default/web"}
	if id := container.IDFromCgroups(cgroups); id != "" {
		r.Request(id, container.PrimaryCgroup(cgroups)) // sysdig's id: the thread already names it
	} else if p := container.PrimaryCgroup(cgroups); p != "" {
		if id, ok := r.IDForCgroup(p); ok {
			_ = id // the thread's container, found by an earlier lookup
		} else {
			r.Request("", p) // maybe a containerd container ("ctr run")
		}
	}

	// Between events, without blocking:
	for more := true; more; {
		select {
		case x := <-r.Updates():
			param := append(x.JSON(), 0) // the parameter of a PPME_CONTAINER_JSON_2_E event
			_ = param
		default:
			more = false
		}
	}
}
