package container

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Source is a container runtime that can describe its containers. The
// adapters are in the subpackages docker, cri and containerd. A Source is
// safe for concurrent use; one that holds connections also implements
// io.Closer.
type Source interface {
	// Name names the source in messages: its kind and socket.
	Name() string
	// Lookup describes container id (the runtime's full id, or the id sysdig
	// reports, see ShortID). It returns an error wrapping ErrNotFound when
	// the runtime does not know the container, ErrFailed when it failed to
	// describe it, and any other error when it could not be asked.
	Lookup(ctx context.Context, id string) (*Info, error)
	// List describes the containers the runtime knows.
	List(ctx context.Context) ([]*Info, error)
}

// CgroupSource is a Source that can also find a container by its cgroup
// path: for runtimes whose cgroup paths need not carry the container id
// (containerd's own containers, "/default/NAME").
type CgroupSource interface {
	Source
	// LookupCgroup describes the container whose cgroup is path or an
	// ancestor of path. It returns an error wrapping ErrNotFound when no
	// container has such a cgroup.
	LookupCgroup(ctx context.Context, path string) (*Info, error)
}

// ErrNotFound is wrapped by the errors of sources that do not know a
// container.
var ErrNotFound = errors.New("container not found")

// ErrFailed is wrapped by the errors of sources that answered, but could not
// describe a container (an error of the runtime about that container). The
// other errors say that the source could not be asked at all.
var ErrFailed = errors.New("container lookup failed")

// Kind is a kind of container runtime API.
type Kind string

// Runtime API kinds.
const (
	KindDocker     Kind = "docker"     // Docker Engine API (container/docker)
	KindPodman     Kind = "podman"     // podman's Docker-compatible API (container/docker)
	KindCRI        Kind = "cri"        // Kubernetes CRI, runtime v1 (container/cri)
	KindContainerd Kind = "containerd" // containerd's own API (container/containerd)
)

// Endpoint is a runtime API on a unix socket.
type Endpoint struct {
	Kind   Kind
	Socket string
	// Explicit marks the endpoints that were asked for (WithCRISocket,
	// WithDockerSocket...): they are listed even when their socket is
	// absent, so that opening them reports why.
	Explicit bool
}

// The sockets Detect looks for, in order.
var (
	// DefaultDockerSockets are Docker's sockets.
	DefaultDockerSockets = []string{"/var/run/docker.sock"}
	// DefaultPodmanSockets are rootful podman's sockets.
	DefaultPodmanSockets = []string{"/run/podman/podman.sock"}
	// DefaultCRISockets are the CRI runtimes' sockets: containerd, CRI-O,
	// k3s's containerd, k0s's containerd.
	DefaultCRISockets = []string{
		"/run/containerd/containerd.sock",
		"/run/crio/crio.sock",
		"/run/k3s/containerd/containerd.sock",
		"/run/k0s/containerd.sock",
	}
)

type detectConfig struct {
	hostRoot                  string
	docker, podman, cri, ctrd []string
	explicit                  map[Kind]bool
	noEnv                     bool
}

// DetectOption configures Detect.
type DetectOption func(*detectConfig)

// WithDockerSocket makes Detect use these Docker sockets instead of the
// default ones (and of DOCKER_HOST).
func WithDockerSocket(paths ...string) DetectOption {
	return func(c *detectConfig) { c.docker = paths; c.explicit[KindDocker] = true }
}

// WithPodmanSocket makes Detect use these podman sockets instead of the
// default ones.
func WithPodmanSocket(paths ...string) DetectOption {
	return func(c *detectConfig) { c.podman = paths; c.explicit[KindPodman] = true }
}

// WithCRISocket makes Detect use these CRI sockets instead of the default
// ones, as sysdig's --cri does. containerd's own API is then looked for on
// those of them that are containerd's (named containerd.sock).
func WithCRISocket(paths ...string) DetectOption {
	return func(c *detectConfig) { c.cri = paths; c.explicit[KindCRI] = true }
}

// WithContainerdSocket makes Detect use these sockets for containerd's own
// API, instead of the containerd sockets among the CRI ones.
func WithContainerdSocket(paths ...string) DetectOption {
	return func(c *detectConfig) { c.ctrd = paths; c.explicit[KindContainerd] = true }
}

// WithHostRoot makes Detect look for the sockets under dir, as sysdig does
// with HOST_ROOT (the default, when set) for a host mounted in a container.
func WithHostRoot(dir string) DetectOption {
	return func(c *detectConfig) { c.hostRoot = dir }
}

// withoutEnv ignores DOCKER_HOST and HOST_ROOT (for tests).
func withoutEnv() DetectOption { return func(c *detectConfig) { c.noEnv = true } }

// Detect returns the runtime endpoints whose sockets exist: Docker, podman,
// the CRI runtimes, and containerd's own API on containerd's sockets (the
// same socket serves CRI and containerd's API). Sockets reached by two
// paths are listed once. Explicit sockets are listed even when absent.
func Detect(opts ...DetectOption) []Endpoint {
	c := &detectConfig{explicit: map[Kind]bool{}}
	for _, o := range opts {
		o(c)
	}
	if !c.noEnv {
		if c.hostRoot == "" {
			c.hostRoot = os.Getenv("HOST_ROOT")
		}
		if !c.explicit[KindDocker] {
			if h, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://"); ok && h != "" {
				c.docker = append([]string{h}, DefaultDockerSockets...)
			}
		}
	}
	if !c.explicit[KindDocker] && c.docker == nil {
		c.docker = DefaultDockerSockets
	}
	if !c.explicit[KindPodman] {
		c.podman = DefaultPodmanSockets
	}
	if !c.explicit[KindCRI] {
		c.cri = DefaultCRISockets
	}
	ctrdExplicit := c.explicit[KindContainerd]
	if !ctrdExplicit {
		c.ctrd = nil
		for _, p := range c.cri {
			if filepath.Base(p) == "containerd.sock" {
				c.ctrd = append(c.ctrd, p)
			}
		}
		// containerd's API on an explicit CRI socket is as explicit.
		c.explicit[KindContainerd] = c.explicit[KindCRI]
	}

	var out []Endpoint
	type key struct {
		kind     Kind
		dev, ino uint64
	}
	seen := map[key]bool{}
	add := func(kind Kind, paths []string) {
		for _, p := range paths {
			full := p
			if c.hostRoot != "" && !c.explicit[kind] {
				full = filepath.Join(c.hostRoot, p)
			}
			st, err := os.Stat(full)
			if err != nil || st.Mode().Type() != fs.ModeSocket {
				if c.explicit[kind] && (kind != KindContainerd || ctrdExplicit) {
					out = append(out, Endpoint{Kind: kind, Socket: full, Explicit: true})
				}
				continue
			}
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				k := key{kind, uint64(sys.Dev), sys.Ino}
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			out = append(out, Endpoint{Kind: kind, Socket: full, Explicit: c.explicit[kind]})
		}
	}
	add(KindDocker, c.docker)
	add(KindPodman, c.podman)
	add(KindCRI, c.cri)
	add(KindContainerd, c.ctrd)
	return out
}
