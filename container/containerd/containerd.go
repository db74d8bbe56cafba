// Package containerd describes the containers containerd runs for itself,
// through its own gRPC API (the github.com/containerd/containerd/api
// module, not the full client): those of namespaces other than the ones
// CRI and Docker manage (k8s.io and moby by default), typically created
// with ctr or nerdctl.
//
// sysdig cannot name these containers: their cgroup is what their creator
// chose ("/default/NAME" for ctr run), not a path with a container id. The
// OCI spec of each says its cgroup, so Client is a container.CgroupSource:
// it finds a container by the cgroup path of a thread.
package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	contentapi "github.com/containerd/containerd/api/services/content/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	tasksapi "github.com/containerd/containerd/api/services/tasks/v1"
	versionapi "github.com/containerd/containerd/api/services/version/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/syscope/syscope/container"
)

// DefaultExcluded are the namespaces left to other adapters: CRI's and
// Docker's.
var DefaultExcluded = []string{"k8s.io", "moby"}

// Client is a container.CgroupSource for containerd's own containers. It
// keeps an index of them, rebuilt when a lookup misses and the index is
// older than the refresh interval. It is safe for concurrent use.
type Client struct {
	socket     string
	conn       *grpc.ClientConn
	namespaces []string // only these, if set
	excluded   []string
	refresh    time.Duration
	version    string

	mu      sync.Mutex
	index   map[string]*entry // by full id, across namespaces
	indexed time.Time
	images  map[string]imageDesc // by namespace/name@target digest

	listMu sync.Mutex // one listing at a time
}

type entry struct {
	ns   string
	c    *containersapi.Container
	pid  uint32
	info *container.Info // described, without the image's id and digest
}

type imageDesc struct{ id, digest string }

// Option configures a Client.
type Option func(*Client)

// WithNamespaces restricts the client to these namespaces.
func WithNamespaces(ns ...string) Option { return func(c *Client) { c.namespaces = ns } }

// WithExcludedNamespaces sets the namespaces to leave out (default
// DefaultExcluded).
func WithExcludedNamespaces(ns ...string) Option { return func(c *Client) { c.excluded = ns } }

// WithRefresh sets how old the index may be before a lookup that misses
// rebuilds it (default 1s).
func WithRefresh(d time.Duration) Option { return func(c *Client) { c.refresh = d } }

// Open connects to containerd on socket and asks its version.
func Open(ctx context.Context, socket string, opts ...Option) (*Client, error) {
	c := &Client{socket: socket, excluded: DefaultExcluded, refresh: time.Second, images: map[string]imageDesc{}}
	for _, o := range opts {
		o(c)
	}
	conn, err := grpc.NewClient("unix://"+socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("containerd %s: %w", socket, err)
	}
	c.conn = conn
	v, err := versionapi.NewVersionClient(conn).Version(ctx, &emptypb.Empty{})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("containerd %s: %w", socket, err)
	}
	c.version = v.Version
	return c, nil
}

// Name is "containerd SOCKET".
func (c *Client) Name() string { return "containerd " + c.socket }

// Version is containerd's version.
func (c *Client) Version() string { return c.version }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func nsContext(ctx context.Context, ns string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "containerd-namespace", ns)
}

func (c *Client) wanted(ns string) bool {
	if len(c.namespaces) > 0 {
		return slices.Contains(c.namespaces, ns)
	}
	return !slices.Contains(c.excluded, ns)
}

// reindex lists the containers and tasks of the namespaces.
func (c *Client) reindex(ctx context.Context) error {
	c.listMu.Lock()
	defer c.listMu.Unlock()
	start := time.Now()
	nsl, err := namespacesapi.NewNamespacesClient(c.conn).List(ctx, &namespacesapi.ListNamespacesRequest{})
	if err != nil {
		return fmt.Errorf("%s: namespaces: %w", c.Name(), err)
	}
	cc := containersapi.NewContainersClient(c.conn)
	tc := tasksapi.NewTasksClient(c.conn)
	index := map[string]*entry{}
	for _, n := range nsl.Namespaces {
		if !c.wanted(n.Name) {
			continue
		}
		nctx := nsContext(ctx, n.Name)
		cl, err := cc.List(nctx, &containersapi.ListContainersRequest{})
		if err != nil {
			return fmt.Errorf("%s: containers of %s: %w", c.Name(), n.Name, err)
		}
		tl, err := tc.List(nctx, &tasksapi.ListTasksRequest{})
		if err != nil {
			return fmt.Errorf("%s: tasks of %s: %w", c.Name(), n.Name, err)
		}
		pids := map[string]uint32{}
		for _, t := range tl.Tasks {
			pids[t.ID] = t.Pid
		}
		for _, ctr := range cl.Containers {
			e := &entry{ns: n.Name, c: ctr, pid: pids[ctr.ID]}
			e.info = describe(n.Name, ctr, e.pid)
			index[ctr.ID] = e
		}
	}
	c.mu.Lock()
	c.index, c.indexed = index, start
	c.mu.Unlock()
	return nil
}

// find returns the entry match selects, rebuilding the index when it has
// none and the index is old.
func (c *Client) find(ctx context.Context, match func(*entry) bool) (*entry, error) {
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		fresh := time.Since(c.indexed) < c.refresh
		var found *entry
		for _, e := range c.index {
			if match(e) {
				found = e
				break
			}
		}
		c.mu.Unlock()
		if found != nil {
			return found, nil
		}
		if attempt > 0 || (fresh && c.index != nil) {
			return nil, container.ErrNotFound
		}
		if err := c.reindex(ctx); err != nil {
			return nil, err
		}
	}
}

// Lookup describes container id: its full id, or a prefix of one (the
// 12 characters sysdig reports of hexadecimal ids).
func (c *Client) Lookup(ctx context.Context, id string) (*container.Info, error) {
	if id == "" {
		return nil, fmt.Errorf("%s: empty id: %w", c.Name(), container.ErrNotFound)
	}
	e, err := c.find(ctx, func(e *entry) bool {
		return e.c.ID == id || (len(id) >= 12 && strings.HasPrefix(e.c.ID, id))
	})
	if err != nil {
		return nil, c.wrap(id, err)
	}
	return c.complete(ctx, e), nil
}

// LookupCgroup describes the container whose cgroup (from its OCI spec) is
// path or its closest ancestor.
func (c *Client) LookupCgroup(ctx context.Context, path string) (*container.Info, error) {
	e, err := c.find(ctx, func(e *entry) bool { return cgroupOf(e, path) })
	if err != nil {
		return nil, c.wrap(path, err)
	}
	// Several containers may hold path (nested cgroups): the deepest.
	c.mu.Lock()
	for _, o := range c.index {
		if cgroupOf(o, path) && len(o.info.Ext.Cgroups[0]) > len(e.info.Ext.Cgroups[0]) {
			e = o
		}
	}
	c.mu.Unlock()
	return c.complete(ctx, e), nil
}

func cgroupOf(e *entry, path string) bool {
	if len(e.info.Ext.Cgroups) == 0 {
		return false
	}
	cg := e.info.Ext.Cgroups[0]
	return path == cg || strings.HasPrefix(path, cg+"/")
}

func (c *Client) wrap(what string, err error) error {
	if errors.Is(err, container.ErrNotFound) {
		return fmt.Errorf("%s: %s: %w", c.Name(), what, container.ErrNotFound)
	}
	return err
}

// List describes the containers.
func (c *Client) List(ctx context.Context) ([]*container.Info, error) {
	if err := c.reindex(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	entries := make([]*entry, 0, len(c.index))
	for _, e := range c.index {
		entries = append(entries, e)
	}
	c.mu.Unlock()
	out := make([]*container.Info, 0, len(entries))
	for _, e := range entries {
		out = append(out, c.complete(ctx, e))
	}
	return out, nil
}

// complete returns a copy of e's description with its image's id and
// digest.
func (c *Client) complete(ctx context.Context, e *entry) *container.Info {
	x := e.info.Clone()
	if e.c.Image != "" {
		d := c.image(ctx, e.ns, e.c.Image)
		x.ImageID, x.ImageDigest = d.id, d.digest
	}
	return x
}

// image finds an image's id (its config's digest, as Docker and CRI call
// it) and digest (its manifest's, or index's), cached.
func (c *Client) image(ctx context.Context, ns, name string) imageDesc {
	nctx := nsContext(ctx, ns)
	img, err := imagesapi.NewImagesClient(c.conn).Get(nctx, &imagesapi.GetImageRequest{Name: name})
	if err != nil || img.Image == nil || img.Image.Target == nil {
		return imageDesc{}
	}
	target := img.Image.Target
	key := ns + "/" + name + "@" + target.Digest
	c.mu.Lock()
	d, ok := c.images[key]
	c.mu.Unlock()
	if ok {
		return d
	}
	d = imageDesc{digest: target.Digest}
	if cfg, err := c.configDigest(nctx, target.MediaType, target.Digest, 0); err == nil {
		d.id = strings.TrimPrefix(cfg, "sha256:")
	}
	c.mu.Lock()
	if len(c.images) > 256 {
		clear(c.images)
	}
	c.images[key] = d
	c.mu.Unlock()
	return d
}

// configDigest reads a manifest (or index, then the manifest of this
// machine's platform) and returns its config's digest.
func (c *Client) configDigest(ctx context.Context, mediaType, digest string, depth int) (string, error) {
	b, err := c.read(ctx, digest)
	if err != nil {
		return "", err
	}
	var doc struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Manifests []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Platform  struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return "", err
	}
	if doc.Config.Digest != "" {
		return doc.Config.Digest, nil
	}
	if depth > 2 {
		return "", errors.New("nested indexes")
	}
	for _, m := range doc.Manifests {
		if m.Platform.OS == runtime.GOOS && m.Platform.Architecture == runtime.GOARCH {
			return c.configDigest(ctx, m.MediaType, m.Digest, depth+1)
		}
	}
	return "", fmt.Errorf("%s (%s): no manifest for %s/%s", digest, mediaType, runtime.GOOS, runtime.GOARCH)
}

// read reads a blob of the content store, up to 4 MiB.
func (c *Client) read(ctx context.Context, digest string) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := contentapi.NewContentClient(c.conn).Read(ctx, &contentapi.ReadContentRequest{Digest: digest})
	if err != nil {
		return nil, err
	}
	var b []byte
	for {
		r, err := s.Recv()
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			if status.Code(err) == codes.NotFound {
				return nil, fmt.Errorf("%s: %w", digest, container.ErrNotFound)
			}
			return nil, err
		}
		b = append(b, r.Data...)
		if len(b) > 4<<20 {
			return nil, fmt.Errorf("%s: too large", digest)
		}
	}
}

// spec is the part of an OCI runtime spec that is read.
type spec struct {
	Process struct {
		Env          []string `json:"env"`
		Capabilities *struct {
			Bounding []string `json:"bounding"`
		} `json:"capabilities"`
	} `json:"process"`
	Mounts []struct {
		Destination string   `json:"destination"`
		Type        string   `json:"type"`
		Source      string   `json:"source"`
		Options     []string `json:"options"`
	} `json:"mounts"`
	Linux *struct {
		CgroupsPath string `json:"cgroupsPath"`
		Resources   *struct {
			Memory *struct {
				Limit *int64 `json:"limit"`
				Swap  *int64 `json:"swap"`
			} `json:"memory"`
			CPU *struct {
				Shares *uint64 `json:"shares"`
				Quota  *int64  `json:"quota"`
				Period *uint64 `json:"period"`
				Cpus   string  `json:"cpus"`
			} `json:"cpu"`
		} `json:"resources"`
		MaskedPaths   []string        `json:"maskedPaths"`
		ReadonlyPaths []string        `json:"readonlyPaths"`
		Seccomp       json.RawMessage `json:"seccomp"`
	} `json:"linux"`
}

// describe describes a container from its record and OCI spec.
func describe(ns string, c *containersapi.Container, pid uint32) *container.Info {
	x := container.NewInfo(container.ShortID(c.ID), container.TypeContainerd)
	x.FullID = c.ID
	x.Name = c.ID
	if n := c.Labels["nerdctl/name"]; n != "" {
		x.Name = n
	}
	x.Image = c.Image
	x.ImageRepo, x.ImageTag, x.ImageDigest = container.SplitImage(c.Image)
	if c.CreatedAt != nil {
		x.CreatedTime = c.CreatedAt.Seconds
	}
	for k, v := range c.Labels {
		x.SetLabel(k, v)
	}
	x.Ext = container.Ext{Source: "containerd", Namespace: ns, Pid: pid}
	var s spec
	if c.Spec == nil || json.Unmarshal(c.Spec.Value, &s) != nil {
		return x
	}
	x.Env = s.Process.Env
	for _, m := range s.Mounts {
		if m.Type != "bind" && !slices.Contains(m.Options, "bind") && !slices.Contains(m.Options, "rbind") {
			continue
		}
		mt := container.Mount{Source: m.Source, Dest: m.Destination, RW: !slices.Contains(m.Options, "ro")}
		for _, o := range m.Options {
			switch o {
			case "private", "rprivate", "shared", "rshared", "slave", "rslave":
				mt.Propagation = o
			}
		}
		x.Mounts = append(x.Mounts, mt)
	}
	l := s.Linux
	if l == nil {
		return x
	}
	if l.CgroupsPath != "" {
		x.Ext.Cgroups = []string{container.CgroupPathFromSpec(l.CgroupsPath)}
	}
	if r := l.Resources; r != nil {
		if m := r.Memory; m != nil {
			if m.Limit != nil {
				x.MemoryLimit = *m.Limit
			}
			if m.Swap != nil {
				x.SwapLimit = *m.Swap
			}
		}
		if cpu := r.CPU; cpu != nil {
			if cpu.Shares != nil && *cpu.Shares > 0 {
				x.CPUShares = int64(*cpu.Shares)
			}
			if cpu.Quota != nil {
				x.CPUQuota = *cpu.Quota
			}
			if cpu.Period != nil && *cpu.Period > 0 {
				x.CPUPeriod = int64(*cpu.Period)
			}
			if cpu.Cpus != "" {
				x.CPUSetCount = container.CPUSetCount(cpu.Cpus)
			}
		}
	}
	// The spec has no privileged flag: ctr and nerdctl's --privileged
	// give every capability and leave no path masked, read-only, nor any
	// seccomp filter.
	x.Privileged = s.Process.Capabilities != nil && slices.Contains(s.Process.Capabilities.Bounding, "CAP_SYS_ADMIN") &&
		len(l.MaskedPaths) == 0 && len(l.ReadonlyPaths) == 0 && (len(l.Seccomp) == 0 || string(l.Seccomp) == "null")
	return x
}
