// Package runtimes opens the container runtime adapters (docker, cri,
// containerd) for the endpoints container.Detect found, in the order a
// Resolver should ask them: Docker and podman, then the CRI runtimes, then
// containerd's own API.
package runtimes

import (
	"context"
	"fmt"
	"time"

	"github.com/syscope/syscope/container"
	"github.com/syscope/syscope/container/containerd"
	"github.com/syscope/syscope/container/cri"
	"github.com/syscope/syscope/container/docker"
)

// DefaultTimeout bounds the opening of each endpoint.
const DefaultTimeout = 2 * time.Second

// Open opens a source for each endpoint, each within timeout (DefaultTimeout
// if 0), checking that it answers. It returns the sources that do, and an
// error for each endpoint that does not: an absent or stale socket is not
// fatal, the others may do.
func Open(ctx context.Context, endpoints []container.Endpoint, timeout time.Duration) ([]container.Source, []error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var srcs []container.Source
	var errs []error
	rank := map[container.Kind]int{container.KindDocker: 0, container.KindPodman: 1, container.KindCRI: 2, container.KindContainerd: 3}
	for r := 0; r < 4; r++ {
		for _, e := range endpoints {
			if rank[e.Kind] != r {
				continue
			}
			s, err := open(ctx, e, timeout)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			srcs = append(srcs, s)
		}
	}
	return srcs, errs
}

func open(ctx context.Context, e container.Endpoint, timeout time.Duration) (container.Source, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch e.Kind {
	case container.KindDocker, container.KindPodman:
		var opts []docker.Option
		if e.Kind == container.KindPodman {
			opts = append(opts, docker.WithPodman())
		}
		c := docker.New(e.Socket, opts...)
		if err := c.Ping(ctx); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	case container.KindCRI:
		c, err := cri.Open(ctx, e.Socket)
		if err != nil {
			return nil, err
		}
		return c, nil
	case container.KindContainerd:
		c, err := containerd.Open(ctx, e.Socket)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s %s: unknown kind of runtime", e.Kind, e.Socket)
}
