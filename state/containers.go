package state

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/syscope/syscope/container"
)

// Container is what is known of a container: from container events in a
// capture, or from a runtime when capturing live.
type Container struct {
	ID          string
	Type        ContainerType
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
	// Probes are the health probes of the container's configuration, in the
	// order libsinsp reads them.
	Probes []Probe
	// JSON is the raw container JSON of the event, if any.
	JSON string
	// Thread is the pseudo-thread sysdig attributes container events to.
	Thread *Thread

	labelKeys []string
}

// ContainerType is a container runtime, numbered as libsinsp's
// sinsp_container_type.
type ContainerType = container.Type

// Container types.
const (
	ContainerTypeUnknown    = container.TypeUnknown // not said by the container event
	ContainerTypeDocker     = container.TypeDocker
	ContainerTypeLXC        = container.TypeLXC
	ContainerTypeLibvirtLXC = container.TypeLibvirtLXC
	ContainerTypeMesos      = container.TypeMesos
	ContainerTypeRkt        = container.TypeRkt
	ContainerTypeCustom     = container.TypeCustom
	ContainerTypeCRI        = container.TypeCRI
	ContainerTypeContainerd = container.TypeContainerd
	ContainerTypeCRIO       = container.TypeCRIO
	ContainerTypeBPM        = container.TypeBPM
	ContainerTypeStatic     = container.TypeStatic
	ContainerTypePodman     = container.TypePodman
)

// LabelKeys returns the keys of x's labels, sorted.
func (x *Container) LabelKeys() []string {
	if len(x.labelKeys) != len(x.Labels) {
		x.labelKeys = x.labelKeys[:0]
		for k := range x.Labels {
			x.labelKeys = append(x.labelKeys, k)
		}
		sort.Strings(x.labelKeys)
	}
	return x.labelKeys
}

// Mount is a container mount.
type Mount = container.Mount

// ProbeType is the kind of a health probe.
type ProbeType = container.ProbeType

// Health probe kinds, with the keys of the container JSON that describe them.
const (
	ProbeNone      = container.ProbeNone      // "None"
	ProbeHealth    = container.ProbeHealth    // "Healthcheck"
	ProbeLiveness  = container.ProbeLiveness  // "LivenessProbe"
	ProbeReadiness = container.ProbeReadiness // "ReadinessProbe"
)

var probeKeys = container.ProbeKeys

// Probe is a health probe: a command line.
type Probe = container.Probe

// Containers is the container table.
type Containers struct {
	m map[string]*Container
	// byCgroup maps the cgroup paths that container events list under
	// their "syscope" key to the container's id: containerd's own
	// containers have paths that do not carry their id.
	byCgroup container.CgroupIndex
	gen      int // counts changes to byCgroup
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
	// libsinsp builds it without setting its parent, user or group: they
	// read 0. Its session and process group are unset (-1).
	return &Thread{s: s, Tid: -1, Pid: -1, Vtid: -2, Vpid: -2, Sid: -1, Vpgid: -1, FDLimit: -1,
		Comm: "container:" + x.ID, ContainerID: x.ID, fds: newFDTable()}
}

// parseContainerEvent handles the old PPME_CONTAINER_E (id, type, name, image).
func (s *State) parseContainerEvent(e *Event) {
	x := &Container{
		ID:    cstring(e.param(0)),
		Name:  cstring(e.param(2)),
		Image: cstring(e.param(3)),
	}
	x.Type = ContainerType(u32(e.param(1)))
	x.Thread = s.containerThread(x)
	s.Containers.Add(x)
	e.Container = x
	e.Thread = x.Thread
}

// parseContainerJSON handles PPME_CONTAINER_JSON_E: the container JSON that
// libsinsp writes in captures. Like libsinsp, it takes the values that have
// the expected JSON type (or convert to it) and ignores the others.
func (s *State) parseContainerJSON(e *Event) {
	raw := trimNul(e.param(0))
	d, ok := s.containerJSON[string(raw)]
	if !ok {
		d = decodeContainerJSON(raw)
		if s.containerJSON == nil || len(s.containerJSON) >= containerJSONMemo {
			s.containerJSON = make(map[string]*decodedContainer)
		}
		s.containerJSON[string(raw)] = d
	}
	if d == nil {
		return
	}
	x := new(Container)
	*x = d.c
	e.FilteredOut = d.filteredOut
	x.Thread = s.containerThread(x)
	s.Containers.Add(x)
	e.Container = x
	e.Thread = x.Thread
	s.addCgroups(x, d.cgroups)
}

// decodedContainer is what a container event says, decoded once: the same
// JSON comes back in every section of a concatenated or rotated capture
// (sysdig writes the containers at the head of each file).
type decodedContainer struct {
	c           Container // without its Thread
	filteredOut bool
	cgroups     []string
}

const containerJSONMemo = 256

// decodeContainerJSON decodes a container event's JSON, or returns nil
// when it names no container.
func decodeContainerJSON(raw []byte) *decodedContainer {
	var root struct {
		Container map[string]json.RawMessage `json:"container"`
	}
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil
	}
	c := root.Container
	d := &decodedContainer{}
	x := &d.c
	x.Type, x.JSON = ContainerTypeUnknown, string(raw)
	x.ID, _ = jsonString(c["id"])
	if x.ID == "" {
		return nil
	}
	if v, ok := jsonUint(c["type"]); ok {
		x.Type = ContainerType(v)
	}
	x.Name, _ = jsonString(c["name"])
	x.Image, _ = jsonString(c["image"])
	x.ImageID, _ = jsonString(c["imageid"])
	x.ImageRepo, _ = jsonString(c["imagerepo"])
	x.ImageTag, _ = jsonString(c["imagetag"])
	x.ImageDigest, _ = jsonString(c["imagedigest"])
	x.Privileged, _ = jsonBool(c["privileged"])
	// libsinsp does not deliver the event of a lookup that started (which a
	// file cannot finish) or failed; it still adds the container.
	if v, ok := jsonUint(c["lookup_state"]); ok && (v == uint32(container.LookupStarted) || v == uint32(container.LookupFailed)) {
		d.filteredOut = true
	}
	x.IP, _ = jsonString(c["ip"])
	var mounts []map[string]json.RawMessage
	if json.Unmarshal(c["Mounts"], &mounts) == nil {
		for _, m := range mounts {
			var mt Mount
			_ = json.Unmarshal(m["Source"], &mt.Source)
			_ = json.Unmarshal(m["Destination"], &mt.Dest)
			_ = json.Unmarshal(m["Mode"], &mt.Mode)
			_ = json.Unmarshal(m["RW"], &mt.RW)
			_ = json.Unmarshal(m["Propagation"], &mt.Propagation)
			x.Mounts = append(x.Mounts, mt)
		}
	}
	for t, key := range probeKeys {
		var p struct {
			Exe  json.RawMessage   `json:"exe"`
			Args []json.RawMessage `json:"args"`
		}
		if json.Unmarshal(c[key], &p) != nil {
			continue
		}
		exe, ok := jsonString(p.Exe)
		if !ok {
			continue
		}
		pr := Probe{Type: ProbeType(t), Exe: exe}
		for _, a := range p.Args {
			if v, ok := jsonString(a); ok {
				pr.Args = append(pr.Args, v)
			}
		}
		x.Probes = append(x.Probes, pr)
	}
	var labels map[string]json.RawMessage
	if json.Unmarshal(c["labels"], &labels) == nil && len(labels) > 0 {
		x.Labels = make(map[string]string, len(labels))
		for k, v := range labels {
			x.Labels[k], _ = jsonString(v)
		}
	}
	var ext struct {
		Cgroups []string `json:"cgroups"`
	}
	if json.Unmarshal(c["syscope"], &ext) == nil {
		d.cgroups = ext.Cgroups
	}
	return d
}

// jsonString is a JSON value as a string, when it converts to one: strings,
// numbers and booleans do.
func jsonString(v json.RawMessage) (string, bool) {
	var x any
	if len(v) == 0 || json.Unmarshal(v, &x) != nil {
		return "", false
	}
	switch x := x.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strings.TrimSpace(string(v)), true
	}
	return "", false
}

// jsonUint is a JSON value as an unsigned number, when it converts to one.
func jsonUint(v json.RawMessage) (uint32, bool) {
	var x any
	if len(v) == 0 || json.Unmarshal(v, &x) != nil {
		return 0, false
	}
	switch x := x.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		if x >= 0 && x <= math.MaxUint32 && x == math.Trunc(x) {
			return uint32(x), true
		}
	}
	return 0, false
}

// jsonBool is a JSON value as a boolean, when it converts to one.
func jsonBool(v json.RawMessage) (bool, bool) {
	var x any
	if len(v) == 0 || json.Unmarshal(v, &x) != nil {
		return false, false
	}
	switch x := x.(type) {
	case bool:
		return x, true
	case float64:
		return x != 0, true
	}
	return false, false
}

// containerID finds the container of a thread from its cgroups: by sysdig's
// rules, or else by the cgroup paths container events listed.
func (s *State) containerID(cgroups []string) string {
	// The threads of a process share one cgroups list (listCache): the
	// answer for a list is kept while the listed containers stay.
	if len(cgroups) == 0 {
		return containerIDFromCgroups(cgroups)
	}
	if s.cgMemo == nil || len(s.cgMemo) >= listCacheMax {
		s.cgMemo = make(map[*string]containerMemo)
	}
	if m, ok := s.cgMemo[&cgroups[0]]; ok && m.gen == s.Containers.gen && m.n == len(cgroups) {
		return m.id
	}
	id := containerIDFromCgroups(cgroups)
	if id == "" && len(s.Containers.byCgroup) != 0 {
		id = s.Containers.idForCgroups(cgroups)
	}
	s.cgMemo[&cgroups[0]] = containerMemo{id: id, gen: s.Containers.gen, n: len(cgroups)}
	return id
}

// containerMemo is an answer of State.containerID, for a cgroups list of n
// entries, while Containers.gen stays.
type containerMemo struct {
	id     string
	gen, n int
}

// idForCgroups returns the container whose listed cgroup path is one of
// cgroups, or an ancestor of one.
func (c *Containers) idForCgroups(cgroups []string) string {
	for _, cg := range cgroups {
		// "subsys=path", where the subsystem may hold a '=' itself
		// ("name=systemd=/path"), as sysdig splits them.
		if i := strings.LastIndexByte(cg, '='); i >= 0 {
			if id, ok := c.byCgroup.Lookup(cg[i+1:]); ok {
				return id
			}
		}
	}
	return ""
}

// addCgroups notes the cgroup paths of container x (from the "syscope" key
// of its JSON) and ties the threads already in them to it.
func (s *State) addCgroups(x *Container, paths []string) {
	if len(paths) == 0 {
		return
	}
	s.Containers.gen++
	if s.Containers.byCgroup == nil {
		s.Containers.byCgroup = make(container.CgroupIndex)
	}
	for _, p := range paths {
		s.Containers.byCgroup.Add(p, x.ID)
	}
	for _, t := range s.threads {
		if t.ContainerID == "" && len(t.Cgroups) > 0 {
			t.ContainerID = s.Containers.idForCgroups(t.Cgroups)
		}
	}
}

// containerIDFromCgroups finds a container id in a thread's cgroups
// ("subsys=path" entries) by sysdig's rules (container.MatchCgroups). It
// returns "" for processes on the host.
func containerIDFromCgroups(cgroups []string) string {
	return container.IDFromCgroups(cgroups)
}

// ContainerIDFromCgroupPath extracts a container id from one cgroup path, by
// sysdig's rules (container.IDFromCgroupPath).
func ContainerIDFromCgroupPath(p string) string {
	return container.IDFromCgroupPath(p)
}
