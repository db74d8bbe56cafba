package container

import (
	"strings"
)

// Container identity from cgroups, by sysdig 0.29.3's rules.
//
// sysdig asks its container engines in a fixed order, each looking at every
// cgroup of the thread in turn, and the first engine that recognizes one
// decides: podman, docker, CRI (containerd and CRI-O), LXC, libvirt-LXC,
// Mesos, rkt, BPM. The runc-based engines (podman, docker, CRI) recognize a
// 64-character hexadecimal id between a prefix and a suffix at the end of
// the path, and report its first 12 characters; the others report the name
// they find in the path as it is.
//
// Two engines need more than the cgroups, and get it from Hints: Mesos
// containers are recognized only when the process or one of its ancestors
// has a Mesos task id in its environment, and rootless podman containers are
// found through the name=systemd cgroup and the owner of the process's user
// namespace. sysdig reads those two from the /proc of the machine it runs
// on, even when it reads a capture file; without hints they are not
// recognized. rkt containers, recognized by the environment of the process's
// ancestors and rkt's files, are not supported.
//
// sysdig's answer can also depend on what it already knows: when the docker
// engine matched a path but sysdig holds a failed lookup for that id, the
// CRI engine is asked next and may pick another cgroup of the thread. That
// case (a thread whose cgroups name two different containers) is not
// modeled: MatchCgroups stops at the first engine that recognizes a path.

// idLen is the length of the ids of runc-based runtimes, and shortIDLen the
// part of them sysdig reports.
const (
	idLen      = 64
	shortIDLen = 12
)

// layout is where a runc-based runtime puts the container id in a cgroup
// path: after the last occurrence of prefix, and before the last occurrence
// of suffix (the end of the path when suffix is empty).
type layout struct{ prefix, suffix string }

var (
	podmanLayouts = []layout{
		{"/libpod-", ".scope"}, // podman under systemd
	}
	dockerLayouts = []layout{
		{"/", ""},              // cgroupfs driver: /docker/ID, and any /.../ID
		{"/docker-", ".scope"}, // systemd driver
	}
	criLayouts = []layout{
		{"/", ""},                      // containerd, cgroupfs
		{"/crio-", ""},                 // CRI-O, cgroupfs
		{"/cri-containerd-", ".scope"}, // containerd, systemd
		{"/crio-", ".scope"},           // CRI-O, systemd
		{":cri-containerd:", ""},       // containerd without SystemdCgroup
	}
)

// Match is the container that a thread's cgroups place it in.
type Match struct {
	// ID is the container id as sysdig reports it: 12 characters for the
	// runc-based runtimes, the name found in the path for the others.
	// It may be empty even when a container was recognized (an LXC path
	// ending in "/lxc/"), as with sysdig.
	ID string
	// Type is the engine that recognized the container. All CRI runtimes
	// give TypeCRI: which one it is (containerd, CRI-O) is known only by
	// asking the runtime.
	Type Type
	// Cgroup is the cgroup path that was recognized.
	Cgroup string
	// UID is the owner of a podman container: 0 when it runs as root.
	UID int
	// MesosTaskID is the Mesos task id of a Mesos container.
	MesosTaskID string
}

// Hints gives MatchCgroups what sysdig reads besides the cgroups. Every
// field may be nil.
type Hints struct {
	// MesosTaskID returns the value of MESOS_TASK_ID, mesos_task_id or
	// MESOS_EXECUTOR_ID (the first that is set) in the environment of the
	// thread or, failing that, of its nearest ancestor that has one.
	MesosTaskID func() string
	// SystemdCgroup returns the thread's name=systemd cgroup, for threads
	// whose cgroups lack it (the kernel does not report named hierarchies).
	SystemdCgroup func() string
	// UserNSRootUID returns the user id that root of the thread's user
	// namespace maps to, and false when it is not known.
	UserNSRootUID func() (int, bool)
}

// cgroup is one "subsystem=path" entry of a thread's cgroups.
type cgroup struct{ subsys, path string }

// splitCgroups splits "subsystem=path" entries at their last '=', as
// libsinsp does, and like it stops at the first entry without one.
func splitCgroups(cgroups []string) []cgroup {
	out := make([]cgroup, 0, len(cgroups))
	for _, e := range cgroups {
		i := strings.LastIndexByte(e, '=')
		if i < 0 {
			break
		}
		out = append(out, cgroup{e[:i], e[i+1:]})
	}
	return out
}

// IDFromCgroups is the container id that a thread's cgroups ("subsystem=path"
// entries) give, or "" for a process on the host. It is MatchCgroups without
// hints.
func IDFromCgroups(cgroups []string) string {
	m, _ := MatchCgroups(cgroups, nil)
	return m.ID
}

// IDFromCgroupPath is the container id that one cgroup path gives, or "".
func IDFromCgroupPath(path string) string {
	m, _ := match([]cgroup{{path: path}}, nil)
	return m.ID
}

// MatchCgroups finds the container a thread is in from its cgroups
// ("subsystem=path" entries, as in captures), asking sysdig's engines in
// sysdig's order. h may be nil.
func MatchCgroups(cgroups []string, h *Hints) (Match, bool) {
	return match(splitCgroups(cgroups), h)
}

func match(cgs []cgroup, h *Hints) (Match, bool) {
	if h == nil {
		h = &Hints{}
	}
	if m, ok := matchPodman(cgs, h); ok {
		return m, true
	}
	if m, ok := matchRunc(cgs, dockerLayouts, TypeDocker); ok {
		return m, true
	}
	if m, ok := matchRunc(cgs, criLayouts, TypeCRI); ok {
		return m, true
	}
	if m, ok := matchLXC(cgs); ok {
		return m, true
	}
	if m, ok := matchLibvirtLXC(cgs); ok {
		return m, true
	}
	if m, ok := matchMesos(cgs, h); ok {
		return m, true
	}
	if m, ok := matchBPM(cgs); ok {
		return m, true
	}
	return Match{}, false
}

// matchRunc tries each cgroup, and for each the layouts in order.
func matchRunc(cgs []cgroup, layouts []layout, t Type) (Match, bool) {
	for _, cg := range cgs {
		for _, l := range layouts {
			if id, ok := matchLayout(cg.path, l.prefix, l.suffix); ok {
				return Match{ID: id, Type: t, Cgroup: cg.path}, true
			}
		}
	}
	return Match{}, false
}

// matchLayout reports whether exactly 64 characters separate the last prefix
// and the last suffix of path, and returns the first 12 of them.
//
// Like libsinsp, it checks that those characters are hexadecimal only below
// offset 64 of the whole path, so an id placed further in the path is taken
// whatever its last characters are.
func matchLayout(path, prefix, suffix string) (string, bool) {
	start := strings.LastIndex(path, prefix)
	if start < 0 {
		return "", false
	}
	start += len(prefix)
	end := strings.LastIndex(path, suffix)
	if end < 0 || end-start != idLen {
		return "", false
	}
	for i := start; i < idLen && i < len(path); i++ {
		if !isHex(path[i]) {
			return "", false
		}
	}
	return path[start : start+shortIDLen], true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// matchPodman recognizes rootful podman containers by their cgroup, and
// rootless ones by their name=systemd cgroup and user namespace.
func matchPodman(cgs []cgroup, h *Hints) (Match, bool) {
	if m, ok := matchRunc(cgs, podmanLayouts, TypePodman); ok {
		// /user.slice/user-UID.slice/... for a user's containers.
		if rest, ok := strings.CutPrefix(m.Cgroup, "/user.slice/user-"); ok {
			if uid, _, ok := scanInt(rest); ok {
				m.UID = uid
			}
		}
		return m, true
	}
	systemd := ""
	found := false
	for _, cg := range cgs {
		if cg.subsys == "name=systemd" {
			systemd, found = cg.path, true
			break
		}
	}
	if !found && h.SystemdCgroup != nil {
		systemd = h.SystemdCgroup()
	}
	if systemd == "" {
		return Match{}, false
	}
	// .../podman-PID.scope/ID...
	pos := strings.Index(systemd, "podman-")
	if pos < 0 {
		return Match{}, false
	}
	_, rest, ok := scanInt(systemd[pos+len("podman-"):])
	if !ok {
		return Match{}, false
	}
	rest, ok = strings.CutPrefix(rest, ".scope/")
	if !ok || rest == "" {
		return Match{}, false
	}
	id, ok := matchLayout(systemd, ".scope/", "")
	if !ok || h.UserNSRootUID == nil {
		return Match{}, false
	}
	uid, ok := h.UserNSRootUID()
	if !ok || uid == 0 || uid == -1 {
		// root does not run rootless containers
		return Match{}, false
	}
	return Match{ID: id, Type: TypePodman, Cgroup: systemd, UID: uid}, true
}

// scanInt reads a decimal integer as scanf's %d does: after blanks, with an
// optional sign.
func scanInt(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		if n < 1<<31 {
			n = n*10 + int(s[j]-'0')
		}
		j++
	}
	if j == i {
		return 0, s, false
	}
	if neg {
		n = -n
	}
	return n, s[j:], true
}

// matchLXC recognizes /lxc/NAME and /lxc.payload/NAME.
func matchLXC(cgs []cgroup) (Match, bool) {
	for _, cg := range cgs {
		for _, mark := range []string{"/lxc/", "/lxc.payload/"} {
			pos := strings.Index(cg.path, mark)
			if pos < 0 {
				continue
			}
			id := cg.path[pos+len(mark):]
			if i := strings.IndexByte(id, '/'); i >= 0 {
				id = id[:i]
			}
			return Match{ID: id, Type: TypeLXC, Cgroup: cg.path}, true
		}
	}
	return Match{}, false
}

// matchLibvirtLXC recognizes .../NAME.libvirt-lxc, machine-lxc\x2dNAME.scope
// and /libvirt/lxc/NAME.
func matchLibvirtLXC(cgs []cgroup) (Match, bool) {
	const (
		suffix  = ".libvirt-lxc"
		systemd = `-lxc\x2` // followed by the 'd' of the escaped '-'
		legacy  = "/libvirt/lxc/"
	)
	for _, cg := range cgs {
		p := cg.path
		if pos := strings.Index(p, suffix); pos >= 0 && pos == len(p)-len(suffix) {
			if slash := strings.LastIndexByte(p, '/'); slash >= 0 {
				return Match{ID: p[slash+1 : pos], Type: TypeLibvirtLXC, Cgroup: p}, true
			}
		}
		if pos := strings.Index(p, systemd); pos >= 0 {
			if end := strings.Index(p, ".scope"); end >= 0 && end == len(p)-len(".scope") {
				start := pos + len(systemd) + 1
				id := p[start:] // the escape runs into ".scope"
				if start <= end {
					id = p[start:end]
				}
				return Match{ID: id, Type: TypeLibvirtLXC, Cgroup: p}, true
			}
		}
		if pos := strings.Index(p, legacy); pos >= 0 {
			return Match{ID: p[pos+len(legacy):], Type: TypeLibvirtLXC, Cgroup: p}, true
		}
	}
	return Match{}, false
}

// matchMesos recognizes /mesos/UUID, for processes with a Mesos task id.
// The first such cgroup decides.
func matchMesos(cgs []cgroup, h *Hints) (Match, bool) {
	for _, cg := range cgs {
		pos := strings.Index(cg.path, "/mesos/")
		if pos < 0 {
			continue
		}
		id := cg.path[pos+len("/mesos/"):]
		if len(id) != 36 || strings.IndexFunc(id, func(r rune) bool { return !(r < 128 && (isHex(byte(r)) || r == '-')) }) >= 0 {
			continue
		}
		if h.MesosTaskID == nil {
			return Match{}, false
		}
		// A task id looks like one when it has at least 3 characters and a
		// dot or an underscore: this leaves out the executor itself.
		tid := h.MesosTaskID()
		if len(tid) < 3 || !strings.ContainsAny(tid, "._") {
			return Match{}, false
		}
		return Match{ID: id, Type: TypeMesos, Cgroup: cg.path, MesosTaskID: tid}, true
	}
	return Match{}, false
}

// matchBPM recognizes bpm-NAME.scope (or bpm-NAME) for BPM's job names.
func matchBPM(cgs []cgroup) (Match, bool) {
	for _, cg := range cgs {
		pos := strings.Index(cg.path, "bpm-")
		if pos < 0 {
			continue
		}
		id := cg.path[pos+len("bpm-"):]
		if end := strings.Index(id, ".scope"); end >= 0 {
			id = id[:end]
		}
		if id != "" && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == "" {
			return Match{ID: id, Type: TypeBPM, Cgroup: cg.path}, true
		}
	}
	return Match{}, false
}

// MesosTaskIDFromEnv returns the Mesos task id in one process's environment
// ("NAME=value" entries): the first of MESOS_TASK_ID, mesos_task_id and
// MESOS_EXECUTOR_ID that has a value, without surrounding spaces. A
// Hints.MesosTaskID asks it of the thread, then of its ancestors.
func MesosTaskIDFromEnv(env []string) string {
	for _, name := range []string{"MESOS_TASK_ID", "mesos_task_id", "MESOS_EXECUTOR_ID"} {
		if v := envValue(env, name); v != "" {
			return v
		}
	}
	return ""
}

// envValue is the value of the first non-empty definition of name in env,
// without leading and trailing spaces.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if len(kv) > len(name)+1 && kv[len(name)] == '=' && kv[:len(name)] == name {
			return strings.Trim(kv[len(name)+1:], " ")
		}
	}
	return ""
}

// ShortID is the id sysdig reports for a container whose runtime id is
// full: its first 12 characters when it is a 64-character hexadecimal id,
// full itself otherwise.
func ShortID(full string) string {
	if len(full) == idLen && strings.IndexFunc(full, func(r rune) bool { return !(r < 128 && isHex(byte(r))) }) < 0 {
		return full[:shortIDLen]
	}
	return full
}

// CgroupPathFromSpec is the cgroup path of an OCI spec's linux.cgroupsPath:
// the path itself for the cgroupfs driver ("/default/NAME"), and for the
// systemd driver ("SLICE:PREFIX:NAME") the path of the unit systemd makes,
// "/system.slice/PREFIX-NAME.scope" or under the nested slices a
// "a-b.slice" stands for ("/a.slice/a-b.slice/...").
func CgroupPathFromSpec(p string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "/") {
		return p
	}
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return "/" + p
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return expandSlice(slice) + "/" + unit
}

// expandSlice is the path of a systemd slice: "a-b.slice" is
// "/a.slice/a-b.slice", and "-.slice" the root.
func expandSlice(slice string) string {
	name := strings.TrimSuffix(slice, ".slice")
	if name == "-" || name == "" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '-' {
			b.WriteString("/" + name[:i] + ".slice")
		}
	}
	b.WriteString("/" + slice)
	return b.String()
}

// PrimaryCgroup picks, among a thread's cgroups ("subsystem=path"
// entries), the path to find its container by when the path has no id
// (Resolver.Request, IDForCgroup): the memory one, else the cpu one, else
// the first that is not the root. It returns "" for a thread in root
// cgroups only.
func PrimaryCgroup(cgroups []string) string {
	cgs := splitCgroups(cgroups)
	for _, want := range []string{"memory", "cpu"} {
		for _, cg := range cgs {
			if cg.subsys == want && cg.path != "/" && cg.path != "" {
				return cg.path
			}
		}
	}
	for _, cg := range cgs {
		if cg.path != "/" && cg.path != "" {
			return cg.path
		}
	}
	return ""
}

// CgroupIndex maps cgroup paths to the ids of the containers that have them,
// for the runtimes whose paths do not carry the id (containerd's own
// containers, "/default/NAME").
type CgroupIndex map[string]string

// Add notes that container id has cgroup path (the root is ignored).
func (ix CgroupIndex) Add(path, id string) {
	if path != "" && path != "/" {
		ix[path] = id
	}
}

// Lookup returns the container whose cgroup is path or its nearest ancestor
// in the index: a container's processes may sit in sub-cgroups of it.
func (ix CgroupIndex) Lookup(path string) (string, bool) {
	for p := path; p != "" && p != "/"; {
		if id, ok := ix[p]; ok {
			return id, true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return "", false
}
