// Package docker describes containers through the Docker Engine API on a
// unix socket, with the standard library's HTTP client. The same API is
// served by podman (its Docker-compatible socket), which WithPodman selects.
//
// The description follows what sysdig 0.29.3 reads from the API: the
// container's inspection (GET /containers/{id}/json), and the image's
// (GET /images/{id}/json, or the image list for podman) when the container
// does not say its image's tag or digest.
package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syscope/syscope/container"
)

// maxBody bounds the responses read.
const maxBody = 32 << 20

// Client is a container.Source for the Docker Engine API. It is safe for
// concurrent use.
type Client struct {
	socket string
	typ    container.Type
	kind   string
	uid    int
	http   *http.Client

	mu     sync.Mutex
	images map[string]imageInspection // by image id
}

// Option configures a Client.
type Option func(*Client)

// WithPodman marks the socket as podman's: the containers are of type
// podman, and podman's way of naming images is expected.
func WithPodman() Option {
	return func(c *Client) { c.typ, c.kind = container.TypePodman, "podman" }
}

// WithOwnerUID says which user runs the podman service of the socket (0 for
// the system one): containers of other users get a podman_owner_uid label,
// as with sysdig.
func WithOwnerUID(uid int) Option { return func(c *Client) { c.uid = uid } }

// New returns a client of the API on socket. It does not connect: the
// first call does.
func New(socket string, opts ...Option) *Client {
	c := &Client{socket: socket, typ: container.TypeDocker, kind: "docker", images: map[string]imageInspection{}}
	for _, o := range opts {
		o(c)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConns:        4,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		TLSHandshakeTimeout: time.Second,
	}
	c.http = &http.Client{Transport: tr}
	return c
}

// Name is "docker SOCKET" or "podman SOCKET".
func (c *Client) Name() string { return c.kind + " " + c.socket }

// Close closes the idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// errStatus is an unexpected HTTP status.
type errStatus struct {
	code int
	msg  string
}

func (e *errStatus) Error() string { return fmt.Sprintf("HTTP %d: %s", e.code, e.msg) }

// get fetches path and decodes its JSON into v. A 404 wraps
// container.ErrNotFound.
func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s: %s: %w", c.Name(), path, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", c.Name(), path, container.ErrNotFound)
	case resp.StatusCode != http.StatusOK:
		var m struct{ Message string }
		_ = json.Unmarshal(body, &m)
		return fmt.Errorf("%s: %s: %w (%w)", c.Name(), path, container.ErrFailed, &errStatus{resp.StatusCode, m.Message})
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: %s: %w", c.Name(), path, err)
	}
	return nil
}

// Ping checks that the API answers.
func (c *Client) Ping(ctx context.Context) error {
	var v struct{ APIVersion string }
	return c.get(ctx, "/version", &v)
}

// inspection is the part of GET /containers/{id}/json that is read.
type inspection struct {
	ID      string `json:"Id"`
	Name    string
	Created string
	Image   string
	State   struct{ Pid int }
	Config  struct {
		Image       string
		Labels      map[string]string
		Env         []string
		Healthcheck json.RawMessage
	}
	HostConfig struct {
		NetworkMode string
		Privileged  json.RawMessage
		Memory      int64
		MemorySwap  int64
		CPUShares   int64 `json:"CpuShares"`
		CPUQuota    int64 `json:"CpuQuota"`
		NanoCPUs    int64 `json:"NanoCpus"`
		CPUPeriod   int64 `json:"CpuPeriod"`
		CpusetCpus  string
	}
	NetworkSettings struct {
		IPAddress string
		Ports     map[string]json.RawMessage
	}
	Mounts []struct {
		Source, Destination, Mode string
		RW                        json.RawMessage
		Propagation               string
	}
}

// Lookup describes container id (a full id, or a prefix of one).
func (c *Client) Lookup(ctx context.Context, id string) (*container.Info, error) {
	return c.lookup(ctx, id, true)
}

func (c *Client) lookup(ctx context.Context, id string, followNet bool) (*container.Info, error) {
	if id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("%s: bad id %q: %w", c.Name(), id, container.ErrNotFound)
	}
	var in inspection
	if err := c.get(ctx, "/containers/"+url.PathEscape(id)+"/json", &in); err != nil {
		return nil, err
	}
	x := container.NewInfo(container.ShortID(in.ID), c.typ)
	x.FullID = in.ID
	x.Ext.Source = c.kind
	x.Ext.Pid = uint32(max(in.State.Pid, 0))
	c.imageInfo(ctx, &in, x)
	x.Probes = probes(in.Config.Labels, in.Config.Healthcheck)
	x.Name = strings.TrimPrefix(in.Name, "/")
	x.IsPodSandbox = strings.HasPrefix(x.Name, "k8s_POD")
	if t, err := time.Parse(time.RFC3339Nano, in.Created); err == nil {
		x.CreatedTime = t.Unix()
	}
	if ip := in.NetworkSettings.IPAddress; ip != "" {
		x.IP = container.ParseIPv4(ip)
	} else if other, ok := strings.CutPrefix(in.HostConfig.NetworkMode, "container:"); ok && followNet {
		// It shares another container's network: that one's address.
		if y, err := c.lookup(ctx, other, false); err == nil {
			x.IP = y.IP
		}
	}
	x.PortMappings = ports(in.NetworkSettings.Ports)
	for k, v := range in.Config.Labels {
		x.SetLabel(k, v)
	}
	if c.typ == container.TypePodman {
		if c.uid == 0 {
			delete(x.Labels, "podman_owner_uid")
		} else {
			x.SetLabel("podman_owner_uid", strconv.Itoa(c.uid))
		}
	}
	x.Env = in.Config.Env
	hc := &in.HostConfig
	x.MemoryLimit, x.SwapLimit = hc.Memory, hc.MemorySwap
	if hc.CPUShares > 0 {
		x.CPUShares = hc.CPUShares
	}
	// --cpus gives NanoCpus; a quota of 100000 per CPU for the default period.
	x.CPUQuota = max(hc.CPUQuota, hc.NanoCPUs/10000)
	if hc.CPUPeriod > 0 {
		x.CPUPeriod = hc.CPUPeriod
	}
	if hc.CpusetCpus != "" {
		x.CPUSetCount = container.CPUSetCount(hc.CpusetCpus)
	}
	_ = json.Unmarshal(hc.Privileged, &x.Privileged)
	for _, m := range in.Mounts {
		var rw bool
		_ = json.Unmarshal(m.RW, &rw)
		x.Mounts = append(x.Mounts, container.Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: rw, Propagation: m.Propagation})
	}
	return x, nil
}

// ports reads NetworkSettings.Ports: the TCP ports published on IPv4
// addresses (others read 0, as with sysdig).
func ports(m map[string]json.RawMessage) []container.PortMapping {
	var out []container.PortMapping
	for key, raw := range m {
		if !strings.Contains(key, "/tcp") {
			continue
		}
		cport, _, _ := strings.Cut(key, "/")
		cp, _ := strconv.ParseUint(cport, 10, 16)
		var binds []struct{ HostIP, HostPort string }
		if json.Unmarshal(raw, &binds) != nil {
			continue
		}
		for _, b := range binds {
			hp, _ := strconv.ParseUint(b.HostPort, 10, 16)
			out = append(out, container.PortMapping{HostIP: container.ParseIPv4(b.HostIP), HostPort: uint16(hp), ContainerPort: uint16(cp)})
		}
	}
	return out
}

// List describes the running containers.
func (c *Client) List(ctx context.Context) ([]*container.Info, error) {
	var list []struct {
		ID string `json:"Id"`
	}
	if err := c.get(ctx, "/containers/json", &list); err != nil {
		return nil, err
	}
	out := make([]*container.Info, 0, len(list))
	for _, e := range list {
		x, err := c.Lookup(ctx, e.ID)
		if errors.Is(err, container.ErrNotFound) {
			continue // gone since
		}
		if err != nil {
			return out, err
		}
		out = append(out, x)
	}
	return out, nil
}

// imageInfo fills the image fields of x, as sysdig does: from the
// container's image reference, and from the image's own inspection when the
// reference lacks a tag or a digest, or is an image id.
func (c *Client) imageInfo(ctx context.Context, in *inspection, x *container.Info) {
	x.Image = in.Config.Image
	img := in.Image
	if !strings.Contains(img, "/") {
		// Docker: Image is the image id.
		if _, id, ok := strings.Cut(img, ":"); ok {
			x.ImageID = id
		}
		// Run by image id, the image's name is to be found.
		noName := x.Image != "" && (strings.HasPrefix(x.ImageID, x.Image) || strings.HasPrefix(img, x.Image))
		if !noName {
			x.ImageRepo, x.ImageTag, x.ImageDigest = container.SplitImage(x.Image)
		}
		if x.ImageID != "" && (noName || x.ImageDigest == "" || x.ImageTag == "") {
			var ii imageInspection
			if c.getImage(ctx, "/images/"+url.PathEscape(x.ImageID)+"/json?digests=1", x.ImageID, &ii) {
				ii.apply(x)
			}
		}
		if x.ImageTag == "" {
			x.ImageTag = "latest"
		}
		return
	}
	// podman: Image is the image's name.
	x.ImageRepo, x.ImageTag, x.ImageDigest = container.SplitImage(img)
	if x.ImageTag == "" {
		x.ImageTag = "latest"
	}
	var list []imageInspection
	if err := c.get(ctx, "/images/json?digests=1", &list); err != nil {
		return
	}
	want := x.ImageRepo + ":" + x.ImageTag
	for _, ii := range list {
		if ii.Names == nil {
			return
		}
		for _, n := range ii.Names {
			if n == want {
				_, id, ok := strings.Cut(ii.ID, ":")
				if !ok {
					id = ii.ID
				}
				x.ImageID = id
				ii.apply(x)
				return
			}
		}
	}
}

// imageInspection is the part of an image's inspection (or of an entry of
// the image list) that is read.
type imageInspection struct {
	ID          string `json:"Id"`
	Digest      json.RawMessage
	RepoDigests []json.RawMessage
	RepoTags    []json.RawMessage
	Names       []string
}

// getImage fetches an image's inspection, cached by key (images do not
// change under their id).
func (c *Client) getImage(ctx context.Context, path, key string, ii *imageInspection) bool {
	c.mu.Lock()
	cached, ok := c.images[key]
	c.mu.Unlock()
	if ok {
		*ii = cached
		return true
	}
	if err := c.get(ctx, path, ii); err != nil {
		return false
	}
	c.mu.Lock()
	if len(c.images) > 1024 {
		clear(c.images)
	}
	c.images[key] = *ii
	c.mu.Unlock()
	return true
}

// apply sets the digest, repository and tag of x from the image's
// inspection, as sysdig does.
func (ii *imageInspection) apply(x *container.Info) {
	var podmanDigest string
	if json.Unmarshal(ii.Digest, &podmanDigest) == nil && len(ii.Digest) > 0 && ii.Digest[0] == '"' {
		x.ImageDigest = podmanDigest
	} else {
		digests := map[string]bool{}
		for _, raw := range ii.RepoDigests {
			var rd string
			if json.Unmarshal(raw, &rd) != nil {
				continue
			}
			repo, digest := rd, rd
			if i := strings.IndexByte(rd, '@'); i >= 0 {
				repo, digest = rd[:i], rd[i+1:]
			}
			digests[digest] = true
			if x.ImageRepo == "" {
				x.ImageRepo = repo
			}
			if strings.Contains(rd, x.ImageRepo) {
				x.ImageDigest = digest
				break
			}
		}
		// One digest under several names: it is the one.
		if x.ImageDigest == "" && len(digests) == 1 {
			for d := range digests {
				x.ImageDigest = d
			}
		}
	}
	for _, raw := range ii.RepoTags {
		var rt string
		if json.Unmarshal(raw, &rt) != nil {
			continue
		}
		colon := strings.LastIndexByte(rt, ':')
		if x.ImageRepo == "" {
			if colon >= 0 {
				x.ImageRepo = rt[:colon]
			} else {
				x.ImageRepo = rt
			}
		}
		if strings.Contains(rt, x.ImageRepo) {
			x.ImageTag = rt[colon+1:]
			break
		}
	}
}

// probes reads the health probes: the liveness or readiness probe of the pod
// spec kubectl left in a label, or else the image's health check.
func probes(labels map[string]string, healthcheck json.RawMessage) []container.Probe {
	if cfg := labels["annotation.kubectl.kubernetes.io/last-applied-configuration"]; cfg != "" {
		var pod struct {
			Spec struct {
				Containers []map[string]json.RawMessage
			}
		}
		if json.Unmarshal([]byte(cfg), &pod) == nil && len(pod.Spec.Containers) > 0 {
			spec := pod.Spec.Containers[0]
			if raw, ok := spec["livenessProbe"]; ok {
				if p, ok := execProbe(raw, container.ProbeLiveness); ok {
					return p
				}
			} else if raw, ok := spec["readinessProbe"]; ok {
				if p, ok := execProbe(raw, container.ProbeReadiness); ok {
					return p
				}
			}
		}
	}
	var hc struct{ Test []string }
	if len(healthcheck) == 0 || json.Unmarshal(healthcheck, &hc) != nil || len(hc.Test) < 2 {
		return nil
	}
	switch hc.Test[0] {
	case "CMD":
		args := make([]string, 0, len(hc.Test)-2)
		for _, a := range hc.Test[2:] {
			args = append(args, unquote(a))
		}
		return []container.Probe{{Type: container.ProbeHealth, Exe: unquote(hc.Test[1]), Args: args}}
	case "CMD-SHELL":
		return []container.Probe{{Type: container.ProbeHealth, Exe: "/bin/sh", Args: []string{"-c", hc.Test[1]}}}
	}
	return nil
}

// execProbe reads a pod spec probe's exec command. It reports false when
// the probe has no exec command; a command that is not a list makes no
// probe, but counts as one (the health check is then ignored).
func execProbe(raw json.RawMessage, t container.ProbeType) ([]container.Probe, bool) {
	var p struct {
		Exec map[string]json.RawMessage `json:"exec"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return nil, false
	}
	cmdRaw, ok := p.Exec["command"]
	if !ok {
		return nil, false
	}
	var cmd []json.RawMessage
	if json.Unmarshal(cmdRaw, &cmd) != nil || cmd == nil {
		return nil, true
	}
	arg := func(i int) string {
		var s string
		if i < len(cmd) {
			_ = json.Unmarshal(cmd[i], &s)
		}
		return unquote(s)
	}
	pr := container.Probe{Type: t, Exe: arg(0)}
	for i := 1; i < len(cmd); i++ {
		pr.Args = append(pr.Args, arg(i))
	}
	return []container.Probe{pr}, true
}

// unquote removes pairs of matching quotes around an argument.
func unquote(s string) string {
	for len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}
