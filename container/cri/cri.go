// Package cri describes containers through the Kubernetes Container Runtime
// Interface (runtime v1, k8s.io/cri-api) over gRPC on a unix socket:
// containerd's CRI plugin, CRI-O, and the containerd of k3s or k0s.
//
// A container is described from its status (ContainerStatus, verbose: the
// runtime's "info" document carries the OCI spec, the sandbox id and the
// creation config) and its pod sandbox's status (PodSandboxStatus: the pod's
// IP and identity), as sysdig 0.29.3 does; a pod sandbox is described as a
// container marked IsPodSandbox. The container type is the runtime's:
// containerd, cri-o, or cri for another runtime.
package cri

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/syscope/syscope/container"
)

// Client is a container.Source for a CRI runtime. It is safe for concurrent
// use.
type Client struct {
	socket    string
	conn      *grpc.ClientConn
	rt        runtimeapi.RuntimeServiceClient
	img       runtimeapi.ImageServiceClient
	typ       container.Type
	runtime   string // name and version, as the runtime says
	podLabels bool
	extra     bool
}

// Option configures a Client.
type Option func(*Client)

// WithPodLabels sets whether containers get the io.kubernetes.pod.name,
// io.kubernetes.pod.namespace, io.kubernetes.pod.uid and
// io.kubernetes.container.name labels from their pod sandbox and metadata
// (and io.kubernetes.sandbox.id, with the pod's labels on the sandbox)
// when they lack them (kubelet sets them; containers created otherwise, with
// crictl for instance, may not have them). Default true; sysdig does not.
func WithPodLabels(on bool) Option { return func(c *Client) { c.podLabels = on } }

// WithExtraQueries sets whether the pod's address and the image id are
// asked separately when the container status does not give them, as
// sysdig's default does (default true).
func WithExtraQueries(on bool) Option { return func(c *Client) { c.extra = on } }

// Open connects to the CRI runtime on socket and asks its version, which
// decides the type of its containers.
func Open(ctx context.Context, socket string, opts ...Option) (*Client, error) {
	c := &Client{socket: socket, podLabels: true, extra: true}
	for _, o := range opts {
		o(c)
	}
	conn, err := grpc.NewClient("unix://"+socket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		return nil, fmt.Errorf("cri %s: %w", socket, err)
	}
	c.conn = conn
	c.rt = runtimeapi.NewRuntimeServiceClient(conn)
	c.img = runtimeapi.NewImageServiceClient(conn)
	v, err := c.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("cri %s: %w", socket, err)
	}
	c.runtime = v.RuntimeName + " " + v.RuntimeVersion
	switch v.RuntimeName {
	case "containerd":
		c.typ = container.TypeContainerd
	case "cri-o":
		c.typ = container.TypeCRIO
	default:
		c.typ = container.TypeCRI
	}
	return c, nil
}

// Name is "cri SOCKET".
func (c *Client) Name() string { return "cri " + c.socket }

// Runtime is the runtime's name and version.
func (c *Client) Runtime() string { return c.runtime }

// Type is the type of the runtime's containers.
func (c *Client) Type() container.Type { return c.typ }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// wrap turns a gRPC error into ours: NotFound wraps container.ErrNotFound,
// the errors of a runtime that answered container.ErrFailed.
func (c *Client) wrap(what, id string, err error) error {
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%s: %s %s: %w", c.Name(), what, id, container.ErrNotFound)
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Unimplemented:
		return fmt.Errorf("%s: %s %s: %w", c.Name(), what, id, err)
	}
	return fmt.Errorf("%s: %s %s: %w (%w)", c.Name(), what, id, container.ErrFailed, err)
}

// Lookup describes container or pod sandbox id (full, or a prefix the
// runtime accepts: containerd and CRI-O accept the 12-character ids).
func (c *Client) Lookup(ctx context.Context, id string) (*container.Info, error) {
	resp, err := c.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		if status.Code(err) != codes.NotFound {
			return nil, c.wrap("container", id, err)
		}
		// Not a container: maybe a pod sandbox.
		sb, serr := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
		if serr != nil {
			return nil, c.wrap("container or sandbox", id, serr)
		}
		return c.sandboxInfo(sb), nil
	}
	if resp.Status == nil {
		return nil, fmt.Errorf("%s: container %s: no status", c.Name(), id)
	}
	return c.containerInfo(ctx, resp)
}

// sandboxInfo describes a pod sandbox as sysdig does (a container known only
// by its id and its being a sandbox), with its pod in Ext.
func (c *Client) sandboxInfo(sb *runtimeapi.PodSandboxStatusResponse) *container.Info {
	s := sb.GetStatus()
	x := container.NewInfo(container.ShortID(s.GetId()), c.typ)
	x.IsPodSandbox = true
	x.Ext.Source = "cri"
	x.Ext.Pod = podOf(sb)
	if x.Ext.Pod != nil {
		x.Ext.Pod.SandboxID = s.GetId()
	}
	if c.podLabels {
		// The pod's labels, for k8s.pod.label.* of its containers (see
		// io.kubernetes.sandbox.id); sysdig's own lookup leaves them out.
		for k, v := range s.GetLabels() {
			x.SetLabel(k, v)
		}
	}
	return x
}

// podOf is the pod a sandbox status describes.
func podOf(sb *runtimeapi.PodSandboxStatusResponse) *container.Pod {
	s := sb.GetStatus()
	if s == nil {
		return nil
	}
	p := &container.Pod{
		SandboxID: s.Id,
		Name:      s.GetMetadata().GetName(),
		Namespace: s.GetMetadata().GetNamespace(),
		UID:       s.GetMetadata().GetUid(),
		IP:        s.GetNetwork().GetIp(),
		HostNet:   s.GetLinux().GetNamespaces().GetOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE,
		Labels:    s.Labels,
	}
	return p
}

// podIP is the IPv4 address sysdig gives the containers of a pod: none for
// pods in the host's network.
func podIP(p *container.Pod) string {
	if p == nil || p.HostNet {
		return ""
	}
	return p.IP
}

// containerInfo describes a container from its status.
func (c *Client) containerInfo(ctx context.Context, resp *runtimeapi.ContainerStatusResponse) (*container.Info, error) {
	s := resp.Status
	x := container.NewInfo(container.ShortID(s.Id), c.typ)
	x.FullID = s.Id
	x.Name = s.GetMetadata().GetName()
	x.CreatedTime = s.CreatedAt / int64(time.Second)
	x.Ext.Source = "cri"
	for k, v := range s.Labels {
		x.SetLabel(k, v)
	}
	imageFromStatus(s, x)
	for _, m := range s.Mounts {
		x.Mounts = append(x.Mounts, container.Mount{Source: m.HostPath, Dest: m.ContainerPath, RW: !m.Readonly,
			Propagation: propagation(m.Propagation)})
	}

	var info verboseInfo
	sandboxID := ""
	if raw, ok := resp.Info["info"]; ok && json.Unmarshal([]byte(raw), &info) == nil {
		info.apply(x)
		sandboxID = info.SandboxID
		if info.Pid > 0 {
			x.Ext.Pid = uint32(info.Pid)
		}
		if p := info.RuntimeSpec.Linux.CgroupsPath; p != "" {
			x.Ext.Cgroups = []string{container.CgroupPathFromSpec(p)}
		}
	}
	if sandboxID == "" {
		// The runtime did not say: the container list does.
		l, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{Id: s.Id}})
		if err == nil && len(l.Containers) == 1 {
			sandboxID = l.Containers[0].PodSandboxId
		}
	}
	if sandboxID != "" {
		if sb, err := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandboxID, Verbose: true}); err == nil {
			x.Ext.Pod = podOf(sb)
			// sysdig asks the sandbox for the address only once it knows
			// the sandbox: its first question (the info document's
			// sandboxID) or its extra one (the container list) give the same.
			if info.SandboxID != "" || c.extra {
				x.IP = container.ParseIPv4(podIP(x.Ext.Pod))
			}
		}
	}
	if c.extra && x.ImageID == "" && s.ImageRef != "" {
		l, err := c.img.ListImages(ctx, &runtimeapi.ListImagesRequest{Filter: &runtimeapi.ImageFilter{Image: &runtimeapi.ImageSpec{Image: s.ImageRef}}})
		if err == nil && len(l.Images) == 1 {
			x.ImageID = l.Images[0].Id
		}
	}
	if c.podLabels {
		p := x.Ext.Pod
		add := func(k, v string) {
			if _, ok := x.Labels[k]; !ok && v != "" {
				x.SetLabel(k, v)
			}
		}
		if p != nil {
			add("io.kubernetes.pod.name", p.Name)
			add("io.kubernetes.pod.namespace", p.Namespace)
			add("io.kubernetes.pod.uid", p.UID)
		}
		add("io.kubernetes.container.name", x.Name)
		// As dockershim's containers did: sysdig (and syscope) read the
		// pod's labels (k8s.pod.label.*) from the sandbox this names.
		add("io.kubernetes.sandbox.id", sandboxID)
	}
	return x, nil
}

// imageFromStatus sets the image fields the status gives: the image as
// asked for, split into repository and tag, and the digest of the image
// reference when it has one.
func imageFromStatus(s *runtimeapi.ContainerStatus, x *container.Info) {
	x.Image = s.GetImage().GetImage()
	var digest string
	x.ImageRepo, x.ImageTag, digest = container.SplitImage(x.Image)
	// The reference is "repo@sha256:..." or "sha256:...".
	ref := s.ImageRef
	switch i := strings.Index(ref, "sha256:"); {
	case i == 0:
		digest = ref
	case i > 0 && ref[i-1] == '@':
		digest = ref[i:]
	}
	x.ImageDigest = digest
}

func propagation(p runtimeapi.MountPropagation) string {
	switch p {
	case runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return "private"
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		return "rslave"
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		return "rshared"
	}
	return "unknown"
}

// verboseInfo is the part of the "info" document of a verbose container
// status that is read (containerd's and CRI-O's).
type verboseInfo struct {
	SandboxID string `json:"sandboxID"`
	Pid       int    `json:"pid"`
	Config    struct {
		Envs []struct {
			Key   *string `json:"key"`
			Value *string `json:"value"`
		} `json:"envs"`
		Image struct {
			Image *string `json:"image"`
		} `json:"image"`
		Linux struct {
			SecurityContext struct {
				Privileged *bool `json:"privileged"`
			} `json:"security_context"`
		} `json:"linux"`
	} `json:"config"`
	RuntimeSpec struct {
		Linux struct {
			CgroupsPath string `json:"cgroupsPath"`
			Resources   struct {
				Memory *struct {
					Limit *json.Number `json:"limit"`
				} `json:"memory"`
				CPU *struct {
					Shares *json.Number `json:"shares"`
					Quota  *json.Number `json:"quota"`
					Period *json.Number `json:"period"`
				} `json:"cpu"`
			} `json:"resources"`
			SecurityContext struct {
				Privileged *bool `json:"privileged"`
			} `json:"security_context"`
		} `json:"linux"`
	} `json:"runtimeSpec"`
	Privileged *bool `json:"privileged"` // CRI-O
}

// apply sets what the info document says: the environment, the image id
// the container was created with, the resource limits of its OCI spec and
// whether it is privileged.
func (in *verboseInfo) apply(x *container.Info) {
	for _, e := range in.Config.Envs {
		if e.Key != nil && e.Value != nil {
			x.Env = append(x.Env, *e.Key+"="+*e.Value)
		}
	}
	if img := in.Config.Image.Image; img != nil {
		// kubelet creates containers with the image id, "sha256:...".
		if _, id, ok := strings.Cut(*img, ":"); ok {
			x.ImageID = id
		} else {
			x.ImageID = *img
		}
	}
	num := func(n *json.Number, dst *int64) {
		if n == nil {
			return
		}
		if v, err := n.Int64(); err == nil {
			*dst = v
		} else if f, err := n.Float64(); err == nil {
			*dst = int64(f)
		}
	}
	res := &in.RuntimeSpec.Linux.Resources
	if res.Memory != nil {
		num(res.Memory.Limit, &x.MemoryLimit)
		x.SwapLimit = x.MemoryLimit
	}
	if res.CPU != nil {
		num(res.CPU.Shares, &x.CPUShares)
		num(res.CPU.Quota, &x.CPUQuota)
		num(res.CPU.Period, &x.CPUPeriod)
	}
	switch {
	case in.RuntimeSpec.Linux.SecurityContext.Privileged != nil: // older containerd
		x.Privileged = *in.RuntimeSpec.Linux.SecurityContext.Privileged
	case in.Config.Linux.SecurityContext.Privileged != nil: // containerd
		x.Privileged = *in.Config.Linux.SecurityContext.Privileged
	case in.Privileged != nil: // CRI-O
		x.Privileged = *in.Privileged
	}
}

// List describes the running containers and the ready pod sandboxes.
func (c *Client) List(ctx context.Context) ([]*container.Info, error) {
	l, err := c.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}})
	if err != nil {
		return nil, c.wrap("list", "containers", err)
	}
	var out []*container.Info
	for _, e := range l.Containers {
		x, err := c.Lookup(ctx, e.Id)
		if errors.Is(err, container.ErrNotFound) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, x)
	}
	sl, err := c.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}})
	if err != nil {
		return out, c.wrap("list", "sandboxes", err)
	}
	for _, s := range sl.Items {
		sb, err := c.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: s.Id, Verbose: true})
		if err != nil {
			if status.Code(err) == codes.NotFound {
				continue
			}
			return out, c.wrap("sandbox", s.Id, err)
		}
		out = append(out, c.sandboxInfo(sb))
	}
	return out, nil
}
