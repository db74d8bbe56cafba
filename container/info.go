package container

import (
	"net/netip"
	"strconv"
	"strings"
)

// LookupState is how far the lookup of a container's metadata went,
// numbered as libsinsp's sinsp_container_lookup_state.
type LookupState int

// Lookup states. sysdig shows only the containers whose lookup succeeded;
// the others still name their threads' container.
const (
	LookupStarted    LookupState = 0
	LookupSuccessful LookupState = 1
	LookupFailed     LookupState = 2
)

// Info is what is known of a container: the fields of sysdig's container
// JSON, and what syscope knows besides (Ext).
type Info struct {
	// ID is the id sysdig reports (see ShortID), FullID the runtime's.
	ID     string
	FullID string
	Type   Type
	Name   string
	// Image is the image as the container was created from it; ImageID
	// the image id without its "sha256:"; ImageRepo, ImageTag and
	// ImageDigest its parts, as sysdig splits them.
	Image       string
	ImageID     string
	ImageRepo   string
	ImageTag    string
	ImageDigest string
	Privileged  bool
	// IsPodSandbox marks the sandbox ("pause") container of a pod.
	IsPodSandbox bool
	// IP is the container's IPv4 address (sysdig has no IPv6 one): its
	// own, or its pod's.
	IP           netip.Addr
	Mounts       []Mount
	PortMappings []PortMapping
	// Labels are the container's labels, without those longer than
	// MaxLabelLength as sysdig drops them.
	Labels map[string]string
	// Env is the container's environment. The JSON keeps only the Mesos
	// and Marathon variables, as sysdig's does.
	Env         []string
	MesosTaskID string
	// Resource limits: bytes, CFS shares, quota and period, CPUs in the
	// cpuset (-1 when the cpuset is invalid).
	MemoryLimit int64
	SwapLimit   int64
	CPUShares   int64
	CPUQuota    int64
	CPUPeriod   int64
	CPUSetCount int32
	Probes      []Probe
	// CreatedTime is when the container was created, in seconds since the
	// epoch.
	CreatedTime      int64
	LookupState      LookupState
	MetadataDeadline uint64

	// Ext is what syscope knows that sysdig's JSON has no key for.
	Ext Ext
}

// Ext is the syscope part of a container description, written under the
// "syscope" key of the container JSON (sysdig ignores it).
type Ext struct {
	// Source is the adapter that described the container ("docker",
	// "cri", "containerd"...).
	Source string `json:"source,omitempty"`
	// Namespace is the containerd namespace of the container.
	Namespace string `json:"namespace,omitempty"`
	// Cgroups are the container's cgroup paths (from the runtime's
	// configuration), for the runtimes whose paths do not carry the id.
	Cgroups []string `json:"cgroups,omitempty"`
	// Pid is the pid of the container's init process, when known.
	Pid uint32 `json:"pid,omitempty"`
	// Pod is the pod of a CRI container.
	Pod *Pod `json:"pod,omitempty"`
}

func (x *Ext) empty() bool {
	return x.Source == "" && x.Namespace == "" && len(x.Cgroups) == 0 && x.Pid == 0 && x.Pod == nil
}

// Pod is the pod a CRI container belongs to, from its sandbox's status.
type Pod struct {
	SandboxID string            `json:"sandbox_id,omitempty"`
	Name      string            `json:"name,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	UID       string            `json:"uid,omitempty"`
	IP        string            `json:"ip,omitempty"` // IPv4 or IPv6
	HostNet   bool              `json:"host_network,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// Mount is a mount of a container.
type Mount struct {
	Source, Dest, Mode string
	RW                 bool
	Propagation        string
}

// PortMapping is a published TCP port.
type PortMapping struct {
	HostIP        netip.Addr // IPv4, or invalid for any address
	HostPort      uint16
	ContainerPort uint16
}

// ProbeType is the kind of a health probe.
type ProbeType uint8

// Health probe kinds; the names are the keys of the container JSON that
// describe them.
const (
	ProbeNone      ProbeType = iota // "None"
	ProbeHealth                     // "Healthcheck"
	ProbeLiveness                   // "LivenessProbe"
	ProbeReadiness                  // "ReadinessProbe"
)

// ProbeKeys are the container JSON keys of the probe types, by type.
var ProbeKeys = [...]string{ProbeNone: "None", ProbeHealth: "Healthcheck", ProbeLiveness: "LivenessProbe", ProbeReadiness: "ReadinessProbe"}

// Probe is a health probe: the command line a container's health check, or
// its pod's liveness or readiness probe, runs.
type Probe struct {
	Type ProbeType
	Exe  string
	Args []string
}

// MaxLabelLength is the length above which sysdig drops a label value.
const MaxLabelLength = 100

// NewInfo returns a container with sysdig's defaults: a successful lookup,
// 1024 CPU shares and a CFS period of 100 ms.
func NewInfo(id string, t Type) *Info {
	return &Info{ID: id, Type: t, CPUShares: 1024, CPUPeriod: 100000, LookupState: LookupSuccessful}
}

// SetLabel sets a label unless its value is longer than MaxLabelLength.
func (x *Info) SetLabel(k, v string) {
	if len(v) > MaxLabelLength {
		return
	}
	if x.Labels == nil {
		x.Labels = make(map[string]string)
	}
	x.Labels[k] = v
}

// Clone returns a deep copy of x.
func (x *Info) Clone() *Info {
	y := *x
	y.Mounts = append([]Mount(nil), x.Mounts...)
	y.PortMappings = append([]PortMapping(nil), x.PortMappings...)
	y.Env = append([]string(nil), x.Env...)
	y.Probes = make([]Probe, len(x.Probes))
	for i, p := range x.Probes {
		y.Probes[i] = Probe{Type: p.Type, Exe: p.Exe, Args: append([]string(nil), p.Args...)}
	}
	if x.Probes == nil {
		y.Probes = nil
	}
	y.Labels = cloneMap(x.Labels)
	y.Ext.Cgroups = append([]string(nil), x.Ext.Cgroups...)
	if x.Ext.Pod != nil {
		p := *x.Ext.Pod
		p.Labels = cloneMap(p.Labels)
		y.Ext.Pod = &p
	}
	return &y
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// SplitImage splits an image reference as sysdig does: the repository
// keeps its registry ("docker.io/library/busybox"), and the tag and digest
// are empty when absent (sysdig defaults the tag to "latest" only for
// docker). The registry is what precedes the first '/', the digest what
// follows the first '@' after it, and the tag what follows the first ':'
// before the digest.
func SplitImage(image string) (repo, tag, digest string) {
	prefix, rest := "", image
	if i := strings.IndexByte(image, '/'); i >= 0 {
		prefix, rest = image[:i+1], image[i+1:]
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, digest = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		rest, tag = rest[:i], rest[i+1:]
	}
	return prefix + rest, tag, digest
}

// CPUSetCount counts the CPUs of a cpuset list ("0-3,7"), or returns -1 when
// the list is not valid, as sysdig counts them.
func CPUSetCount(list string) int32 {
	n := 0
	for _, sec := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(sec, "-")
		if isRange && strings.Contains(hi, "-") {
			return -1
		}
		a, ok := leadingInt(lo)
		if !ok {
			return -1
		}
		if !isRange {
			n++
			continue
		}
		b, ok := leadingInt(hi)
		if !ok || b <= a {
			return -1
		}
		n += b - a + 1
	}
	return int32(n)
}

// leadingInt parses the number a section starts with, as C++'s stoi does:
// blanks, a sign and digits, ignoring what follows.
func leadingInt(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n, _, ok := scanInt(s)
	return n, ok
}

// ipv4 parses an IPv4 address, or returns the invalid address.
func ipv4(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// ParseIPv4 parses an IPv4 address as sysdig keeps container and host
// addresses: anything else (an IPv6 address, "") and 0.0.0.0 give the
// invalid address, written as 0.0.0.0.
func ParseIPv4(s string) netip.Addr { return ipv4(s) }

func ipString(a netip.Addr) string {
	if !a.Is4() {
		return "0.0.0.0"
	}
	return a.String()
}

func ipUint(a netip.Addr) uint32 {
	if !a.Is4() {
		return 0
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func ipFromUint(v uint32) netip.Addr {
	if v == 0 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// String is a one-line description of x, for messages.
func (x *Info) String() string {
	var b strings.Builder
	b.WriteString(x.Type.String())
	b.WriteByte(':')
	b.WriteString(x.ID)
	if x.Name != "" {
		b.WriteString(" name=" + strconv.Quote(x.Name))
	}
	if x.Image != "" {
		b.WriteString(" image=" + strconv.Quote(x.Image))
	}
	if x.LookupState != LookupSuccessful {
		b.WriteString(" lookup=" + strconv.Itoa(int(x.LookupState)))
	}
	return b.String()
}
