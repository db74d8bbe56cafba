package state

import (
	"encoding/json"
	"strings"
)

// Container is what is known of a container: from container events in a
// capture, or from a runtime when capturing live.
type Container struct {
	ID          string
	Type        string
	Name        string
	Image       string
	ImageID     string
	ImageRepo   string
	ImageTag    string
	ImageDigest string
	Privileged  bool
	IP          string
	Labels      map[string]string
	Mounts      []Mount
	// JSON is the raw container JSON of the event, if any.
	JSON string
	// Thread is the pseudo-thread sysdig attributes container events to.
	Thread *Thread
}

// Mount is a container mount.
type Mount struct {
	Source, Dest, Mode string
	RW                 bool
	Propagation        string
}

// Containers is the container table.
type Containers struct {
	m map[string]*Container
}

func newContainers() *Containers { return &Containers{m: make(map[string]*Container)} }

// Get returns the container id, or nil.
func (c *Containers) Get(id string) *Container { return c.m[id] }

// Each calls fn for each container.
func (c *Containers) Each(fn func(*Container)) {
	for _, x := range c.m {
		fn(x)
	}
}

// Add adds or replaces a container.
func (c *Containers) Add(x *Container) { c.m[x.ID] = x }

func (s *State) containerThread(x *Container) *Thread {
	return &Thread{s: s, Tid: -1, Pid: -1, Ptid: -1, Vtid: -2, Vpid: -2, Comm: "container:" + x.ID,
		ContainerID: x.ID, fds: newFDTable(), UID: 0xffffffff, GID: 0xffffffff, LoginUID: 0xffffffff}
}

// parseContainerEvent handles the old PPME_CONTAINER_E (id, type, name, image).
func (s *State) parseContainerEvent(e *Event) {
	x := &Container{
		ID:    cstring(e.param(0)),
		Name:  cstring(e.param(2)),
		Image: cstring(e.param(3)),
	}
	x.Type = containerTypeName(u32(e.param(1)))
	x.Thread = s.containerThread(x)
	s.Containers.Add(x)
	e.Container = x
	e.Thread = x.Thread
}

func containerTypeName(t uint32) string {
	switch t {
	case 0:
		return "docker"
	case 1:
		return "lxc"
	case 2:
		return "libvirt-lxc"
	case 3:
		return "mesos"
	case 4:
		return "rkt"
	case 5:
		return "cri"
	case 6:
		return "containerd"
	case 7:
		return "cri-o"
	case 8:
		return "bpm"
	}
	return ""
}

type containerJSON struct {
	Container struct {
		ID          string            `json:"id"`
		Type        *int              `json:"type"`
		Name        string            `json:"name"`
		Image       string            `json:"image"`
		ImageID     string            `json:"imageid"`
		ImageRepo   string            `json:"imagerepo"`
		ImageTag    string            `json:"imagetag"`
		ImageDigest string            `json:"imagedigest"`
		Privileged  bool              `json:"privileged"`
		IP          string            `json:"ip"`
		Labels      map[string]string `json:"labels"`
		Mounts      []struct {
			Source      string `json:"Source"`
			Destination string `json:"Destination"`
			Mode        string `json:"Mode"`
			RW          bool   `json:"RW"`
			Propagation string `json:"Propagation"`
		} `json:"Mounts"`
	} `json:"container"`
}

func (s *State) parseContainerJSON(e *Event) {
	raw := trimNul(e.param(0))
	var cj containerJSON
	if err := json.Unmarshal(raw, &cj); err != nil || cj.Container.ID == "" {
		return
	}
	c := &cj.Container
	x := &Container{
		ID: c.ID, Name: c.Name, Image: c.Image, ImageID: c.ImageID, ImageRepo: c.ImageRepo,
		ImageTag: c.ImageTag, ImageDigest: c.ImageDigest, Privileged: c.Privileged, IP: c.IP,
		Labels: c.Labels, JSON: string(raw),
	}
	if c.Type != nil {
		x.Type = containerTypeName(uint32(*c.Type))
	}
	for _, m := range c.Mounts {
		x.Mounts = append(x.Mounts, Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation})
	}
	x.Thread = s.containerThread(x)
	s.Containers.Add(x)
	e.Container = x
	e.Thread = x.Thread
}

// containerIDFromCgroups finds a container id in a thread's cgroups
// ("subsys=path" entries), for the runtimes whose cgroup paths carry one.
// It returns "" for processes on the host.
func containerIDFromCgroups(cgroups []string) string {
	for _, cg := range cgroups {
		i := strings.IndexByte(cg, '=')
		if i < 0 {
			continue
		}
		if id := ContainerIDFromCgroupPath(cg[i+1:]); id != "" {
			return id
		}
	}
	return ""
}

// ContainerIDFromCgroupPath extracts a 12-character container id from one cgroup path:
// docker (/docker/ID, docker-ID.scope), containerd and CRI (cri-containerd-ID.scope,
// kubepods/.../ID), CRI-O (crio-ID.scope), podman (libpod-ID.scope).
func ContainerIDFromCgroupPath(p string) string {
	last := p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		last = p[i+1:]
	}
	for _, pre := range []string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-"} {
		if strings.HasPrefix(last, pre) && strings.HasSuffix(last, ".scope") {
			id := last[len(pre) : len(last)-len(".scope")]
			if isHexID(id) {
				return id[:12]
			}
		}
	}
	if isHexID(last) && (strings.Contains(p, "/docker/") || strings.Contains(p, "/kubepods") ||
		strings.Contains(p, "/ecs/") || strings.Contains(p, "/libpod") || strings.Contains(p, "/containerd")) {
		return last[:12]
	}
	return ""
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
