// Package state keeps what the event stream says about the system: threads and
// processes, their file descriptors, users, groups, interfaces and containers.
// It is built from a capture's tables and updated by each event (clone, execve,
// open, socket, connect, close, ...), the way libsinsp does it, so that fields
// such as proc.name or fd.name resolve as sysdig resolves them.
package state

import (
	"math"
	"sort"

	"github.com/syscope/syscope/scap"
)

// Clone flags (PPM_CL_*) that the state engine uses.
const (
	CloneFiles       = 1 << 0
	CloneFS          = 1 << 1
	CloneNewPID      = 1 << 6
	CloneThread      = 1 << 13
	CloneInverted    = 1 << 16
	CloneNameChanged = 1 << 17
	CloneClosed      = 1 << 18
	CloneActive      = 1 << 19
	clonePipeSrc     = 1 << 21
	clonePipeDst     = 1 << 22
	CloneChildInPID  = 1 << 29
	CloneIsMain      = 1 << 30
)

// FD role and state flags.
const (
	FDRoleClient  = 1 << 0
	FDRoleServer  = 1 << 1
	FDFromProc    = 1 << 2
	FDConnected   = 1 << 3
	FDCloned      = 1 << 4
	FDSocketPipe  = 1 << 5
	FDSockFailed  = 1 << 6
	FDConnPending = 1 << 7

	// An fd whose close has entered and not exited, and the fd that took its
	// number meanwhile (libsinsp's FLAGS_CLOSE_IN_PROGRESS and
	// FLAGS_CLOSE_CANCELED).
	fdCloseInProgress = 1 << 8
	fdCloseCanceled   = 1 << 9
)

// canceledFD is where the table keeps an fd whose number was taken while
// its close was in progress, until the close exits (libsinsp's
// CANCELED_FD_NUMBER): it counts as an open fd meanwhile.
const canceledFD = math.MaxInt64

// FD is an open file descriptor.
type FD struct {
	Type      scap.FDType
	Name      string
	OpenFlags uint32
	Ino       uint64
	Dev       uint32
	Flags     uint32
	// Socket endpoints; IPv4 addresses live in the first 4 bytes.
	SIP, DIP     [16]byte
	SPort, DPort uint16
	L4Proto      uint8
	// Unix sockets.
	Source, Dest uint64
	// oldName is the name when the fd was last looked up, to tell whether
	// an event renamed it (fd.name_changed).
	oldName string
}

// IsSocket reports whether f is an IP socket.
func (f *FD) IsSocket() bool {
	switch f.Type {
	case scap.FDIPv4Sock, scap.FDIPv6Sock, scap.FDIPv4ServSock, scap.FDIPv6ServSock:
		return true
	}
	return false
}

// TypeChar is the one-letter kind of f as sysdig prints it in <f>, <4t>...
func (f *FD) TypeChar() byte {
	switch f.Type {
	case scap.FDFile, scap.FDFileV2:
		return 'f'
	case scap.FDIPv4Sock, scap.FDIPv4ServSock:
		return '4'
	case scap.FDIPv6Sock, scap.FDIPv6ServSock:
		return '6'
	case scap.FDDirectory:
		return 'd'
	case scap.FDFifo:
		return 'p'
	case scap.FDUnixSock:
		return 'u'
	case scap.FDEvent:
		return 'e'
	case scap.FDUninitialized:
		return 'o'
	case scap.FDUnsupported:
		return 'X'
	case scap.FDSignalfd:
		return 's'
	case scap.FDEventpoll:
		return 'l'
	case scap.FDInotify:
		return 'i'
	case scap.FDTimerfd:
		return 't'
	case scap.FDNetlink:
		return 'n'
	}
	return '?'
}

// TypeName is the fd.type string of f.
func (f *FD) TypeName() string {
	switch f.Type {
	case scap.FDFile, scap.FDFileV2:
		return "file"
	case scap.FDDirectory:
		return "directory"
	case scap.FDIPv4Sock, scap.FDIPv4ServSock:
		return "ipv4"
	case scap.FDIPv6Sock, scap.FDIPv6ServSock:
		return "ipv6"
	case scap.FDUnixSock:
		return "unix"
	case scap.FDFifo:
		return "pipe"
	case scap.FDEvent:
		return "event"
	case scap.FDSignalfd:
		return "signalfd"
	case scap.FDEventpoll:
		return "eventpoll"
	case scap.FDInotify:
		return "inotify"
	case scap.FDTimerfd:
		return "timerfd"
	case scap.FDNetlink:
		return "netlink"
	case scap.FDBPF:
		return "bpf"
	case scap.FDUserfaultfd:
		return "userfaultfd"
	case scap.FDIOUring:
		return "io_uring"
	case scap.FDMemfd:
		return "memfd"
	case scap.FDPidfd:
		return "pidfd"
	}
	return "<NA>"
}

// FDTable is a table of fds, shared by the threads of a process.
type FDTable struct {
	m map[int64]*FD
	// A one-entry cache: a thread usually works on one fd for a while.
	last  *FD
	lastN int64
}

func newFDTable() *FDTable { return &FDTable{m: make(map[int64]*FD, 8)} }

// Get returns the fd numbered n, or nil.
func (t *FDTable) Get(n int64) *FD {
	if t == nil {
		return nil
	}
	var f *FD
	if t.last != nil && t.lastN == n {
		f = t.last
	} else if f = t.m[n]; f != nil {
		t.last, t.lastN = f, n
	}
	if f != nil {
		// As libsinsp's get_fd: the current name becomes the old one.
		f.oldName = f.Name
	}
	return f
}

// Len returns the number of fds in the table.
func (t *FDTable) Len() int {
	if t == nil {
		return 0
	}
	return len(t.m)
}

// Each calls fn for each fd, in no particular order.
func (t *FDTable) Each(fn func(n int64, f *FD)) {
	if t == nil {
		return
	}
	for n, f := range t.m {
		fn(n, f)
	}
}

func (t *FDTable) add(n int64, f *FD) *FD {
	if old := t.m[n]; old != nil {
		*old = *f
		return old
	}
	c := *f
	t.m[n] = &c
	t.last = nil
	return &c
}

// put is add for an f that may be kept: it goes into the table itself
// unless fd n is there already.
func (t *FDTable) put(n int64, f *FD) {
	if old := t.m[n]; old != nil {
		*old = *f
		return
	}
	t.m[n] = f
	t.last = nil
}

func (t *FDTable) clone() *FDTable {
	c := &FDTable{m: make(map[int64]*FD, len(t.m))}
	for n, f := range t.m {
		cf := *f
		cf.Flags |= FDCloned
		c.m[n] = &cf
	}
	return c
}

// Thread is a thread known to the state engine.
type Thread struct {
	Tid, Pid, Ptid int64
	Sid, Vpgid     int64
	Vtid, Vpid     int64
	Comm, Exe      string
	ExePath        string
	Args           []string
	Env            []string
	Cgroups        []string
	Root           string
	cwd            string // meaningful on the main thread
	Flags          uint32
	UID, GID       uint32
	LoginUID       uint32
	FDLimit        int64
	VMSizeKB       uint32
	VMRSSKB        uint32
	VMSwapKB       uint32
	PFMajor        uint64
	PFMinor        uint64
	CloneTS        uint64
	ContainerID    string
	// NChilds is the number of other threads of the process, counted on its
	// main thread (libsinsp's m_nchilds): a main thread that exits while it
	// has some stays in the table.
	NChilds     uint64
	TTY         int32
	ExeWritable bool

	fds *FDTable

	// Per-event bookkeeping.
	LastEventType uint16
	LastEventFD   int64 // starts at 0, as in libsinsp
	LastEnterTS   uint64
	lastAccess    uint64 // time of the last event of the thread (for the live look-over)
	Latency       uint64
	enter         savedEvent // parameters of the last enter event, when needed by its exit
	enterValid    bool

	s *State
}

// IsMain reports whether t is the main thread of its process.
func (t *Thread) IsMain() bool { return t.Tid == t.Pid || t.Flags&CloneIsMain != 0 }

// Main returns the main thread of t's process (t itself if it is one), or nil.
func (t *Thread) Main() *Thread {
	if t.IsMain() {
		return t
	}
	return t.s.lookup(t.Pid, false)
}

// FDs returns the fd table t uses.
func (t *Thread) FDs() *FDTable {
	if t.Flags&CloneFiles == 0 {
		return t.fds
	}
	if m := t.Main(); m != nil {
		return m.fds
	}
	return nil
}

// FD returns the fd n of t, or nil.
func (t *Thread) FD(n int64) *FD { return t.FDs().Get(n) }

// Cwd returns the working directory of t's process, with a trailing slash.
func (t *Thread) Cwd() string {
	if m := t.Main(); m != nil {
		return m.cwd
	}
	return "./"
}

func (t *Thread) setCwd(p []byte) {
	m := t.Main()
	if m == nil {
		return
	}
	c := ConcatPaths(m.cwd, p)
	if c == "" || c[len(c)-1] != '/' {
		c += "/"
	}
	m.cwd = c
}

func (t *Thread) addFD(n int64, f *FD) *FD {
	tab := t.FDs()
	if tab == nil {
		return nil
	}
	// As libsinsp's add_fd, this makes n the thread's last event fd.
	t.LastEventFD = n
	if old := tab.m[n]; old != nil && old.Flags&fdCloseInProgress != 0 {
		// Another thread of the process is closing fd n: the new fd is
		// marked, so that the close's exit leaves it, and the old one is
		// kept aside. As libsinsp, this marks f itself (for a dup, the fd
		// duplicated).
		f.Flags = f.Flags&^fdCloseInProgress | fdCloseCanceled
		c := *old
		tab.m[canceledFD] = &c
	}
	return tab.add(n, f)
}

func (t *Thread) removeFD(n int64) {
	if tab := t.FDs(); tab != nil {
		delete(tab.m, n)
		tab.last = nil
	}
}

// User is a user account.
type User struct {
	UID     uint32
	GID     uint32
	Name    string
	HomeDir string
	Shell   string
}

// Group is a group.
type Group struct {
	GID  uint32
	Name string
}

// State is the whole state of the system as seen by the event stream.
type State struct {
	threads map[int64]*Thread
	// perPid counts the threads of the table by their Pid (a placeholder
	// made for a missing main thread counts them as its children).
	perPid map[int64]uint64
	// tcache holds recently looked-up threads by tid modulo its size (a
	// direct-mapped cache in front of the map: events come in runs from a
	// few threads). Every write to threads updates the tid's slot.
	tcache [threadCacheSize]*Thread
	// tmiss remembers, in the same way, tids the table does not have (the
	// events of threads that came and went before the capture started are
	// looked up again and again).
	tmiss [missCacheSize]int64 // noTid: empty
	// Reused lists of new threads, and the container of the last cgroups.
	argsCache, cgroupsCache listCache
	cgMemo                  map[*string]containerMemo
	// containerJSON remembers decoded container events by their JSON.
	containerJSON map[string]*decodedContainer
	// absPaths holds the names of files opened by absolute path, by the path
	// as the event has it (see pathName).
	absPaths   map[string]string
	Users      map[uint32]*User
	Groups     map[uint32]*Group
	Interfaces []scap.Interface
	Machine    *scap.MachineInfo
	Containers *Containers
	// K8s is the Kubernetes state from K8S_E events (state/k8s.go), nil before the first.
	K8s *K8s

	// Deferred removals, applied when the next event arrives (as libsinsp does).
	tidToRemove  int64
	fdsToRemove  []int64
	fdRemoveTid  int64
	ServerPorts  map[uint16]struct{}
	FirstEventTS uint64
	LastEventTS  uint64
	NumEvents    uint64

	// The look-over of a live capture's table (purge.go): nil when off.
	alive     func(pid, tid int64, comm string) bool
	nextPurge uint64
}

// New returns an empty state.
func New() *State {
	s := &State{
		threads:     make(map[int64]*Thread, 1024),
		perPid:      make(map[int64]uint64, 1024),
		Users:       make(map[uint32]*User),
		Groups:      make(map[uint32]*Group),
		Containers:  newContainers(),
		tidToRemove: -1,
		ServerPorts: make(map[uint16]struct{}),
	}
	s.clearThreadCache()
	return s
}

const (
	threadCacheSize = 1024
	// Captures whose thread table was trimmed hold events of a thousand
	// threads it does not have.
	missCacheSize = 4096
	noTid         = math.MinInt64
)

func (s *State) clearThreadCache() {
	s.tcache = [threadCacheSize]*Thread{}
	for i := range s.tmiss {
		s.tmiss[i] = noTid
	}
}

// Thread returns the thread tid, or nil.
func (s *State) Thread(tid int64) *Thread { return s.lookup(tid, false) }

// setThread puts t in the table as thread tid, replacing any other.
func (s *State) setThread(t *Thread) {
	if old := s.threads[t.Tid]; old != nil {
		s.uncount(old.Pid)
	}
	s.threads[t.Tid] = t
	s.perPid[t.Pid]++
	s.tcache[uint64(t.Tid)%threadCacheSize] = t
	if m := &s.tmiss[uint64(t.Tid)%missCacheSize]; *m == t.Tid {
		*m = noTid
	}
}

// deleteThread takes thread tid out of the table.
func (s *State) deleteThread(tid int64) {
	if t := s.threads[tid]; t != nil {
		s.uncount(t.Pid)
	}
	delete(s.threads, tid)
	if c := &s.tcache[uint64(tid)%threadCacheSize]; *c != nil && (*c).Tid == tid {
		*c = nil
	}
}

// setPid changes the Pid of t, a thread that may be in the table.
func (s *State) setPid(t *Thread, pid int64) {
	if s.threads[t.Tid] == t {
		s.uncount(t.Pid)
		s.perPid[pid]++
	}
	t.Pid = pid
}

func (s *State) uncount(pid int64) {
	if n := s.perPid[pid]; n > 1 {
		s.perPid[pid] = n - 1
	} else {
		delete(s.perPid, pid)
	}
}

// NumThreads returns the number of threads in the table.
func (s *State) NumThreads() int { return len(s.threads) }

// EachThread calls fn for each thread, in no particular order.
func (s *State) EachThread(fn func(*Thread)) {
	for _, t := range s.threads {
		fn(t)
	}
}

// LoadMetadata loads the tables of a capture file.
func (s *State) LoadMetadata(m *scap.Metadata) {
	if m.Machine != nil {
		s.Machine = m.Machine
	}
	if len(m.Interfaces) > 0 {
		s.Interfaces = append([]scap.Interface(nil), m.Interfaces...)
	}
	for i := range m.Users {
		u := m.Users[i]
		s.Users[u.UID] = &User{UID: u.UID, GID: u.GID, Name: u.Name, HomeDir: u.HomeDir, Shell: u.Shell}
	}
	for i := range m.Groups {
		g := m.Groups[i]
		s.Groups[g.GID] = &Group{GID: g.GID, Name: g.Name}
	}
	noSid, noVpgid := noSessions(m.Threads)
	// Threads first (so main threads exist), then their cwd and fds.
	for i := range m.Threads {
		st := &m.Threads[i]
		t := &Thread{s: s, fds: newFDTable()}
		t.Tid, t.Pid, t.Ptid = st.Tid, st.Pid, st.Ptid
		t.Sid, t.Vpgid = st.Sid, st.Vpgid
		if noSid {
			t.Sid = -1
		}
		if noVpgid {
			t.Vpgid = -1
		}
		t.Comm, t.Exe, t.ExePath = st.Comm, st.Exe, st.ExePath
		t.Args = st.Args
		t.Flags = st.Flags | CloneActive
		t.FDLimit = st.FDLimit
		t.UID, t.GID = st.UID, st.GID
		t.VMSizeKB, t.VMRSSKB, t.VMSwapKB = st.VMSizeKB, st.VMRSSKB, st.VMSwapKB
		t.PFMajor, t.PFMinor = st.PFMajor, st.PFMinor
		t.Vtid, t.Vpid = st.Vtid, st.Vpid
		t.Cgroups = st.Cgroups
		t.Root = st.Root
		t.LoginUID, t.ExeWritable = procLoginUID(st)
		t.ContainerID = s.containerID(st.Cgroups)
		s.setThread(t)
	}
	for i := range m.Threads {
		st := &m.Threads[i]
		t := s.threads[st.Tid]
		if t == nil {
			continue
		}
		if t.IsMain() {
			t.Env = st.Env
			t.setCwd([]byte(st.Cwd))
		}
		// One allocation for the thread's fds, not one each.
		slab := make([]FD, len(st.FDs))
		if len(st.FDs) > 8 && len(t.fds.m) == 0 {
			t.fds.m = make(map[int64]*FD, len(st.FDs))
		}
		for j := range st.FDs {
			s.addFDFromScap(t, &st.FDs[j], &slab[j])
		}
	}
	s.fixSocketsFromProc(m)
	s.recountChildren()
}

func (s *State) addFDFromScap(t *Thread, sf *scap.FD, f *FD) {
	*f = FD{Type: sf.Type, Ino: sf.Ino, Flags: FDFromProc}
	switch sf.Type {
	case scap.FDIPv4Sock:
		f.SIP, f.DIP, f.SPort, f.DPort, f.L4Proto = sf.SIP, sf.DIP, sf.SPort, sf.DPort, sf.L4Proto
		if sf.L4Proto == scap.L4TCP {
			f.Flags |= FDConnected
		}
		f.Name = ipv4Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
	case scap.FDIPv4ServSock:
		f.SIP, f.SPort, f.L4Proto = sf.SIP, sf.SPort, sf.L4Proto
		f.Name = ipv4Addr(f.SIP, f.SPort)
		s.ServerPorts[f.SPort] = struct{}{}
	case scap.FDIPv6Sock:
		if isV4Mapped(sf.SIP[:]) && isV4Mapped(sf.DIP[:]) {
			f.Type = scap.FDIPv4Sock
			copy(f.SIP[:4], sf.SIP[12:])
			copy(f.DIP[:4], sf.DIP[12:])
			f.SPort, f.DPort, f.L4Proto = sf.SPort, sf.DPort, sf.L4Proto
			if sf.L4Proto == scap.L4TCP {
				f.Flags |= FDConnected
			}
			f.Name = ipv4Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
		} else {
			f.SIP, f.DIP, f.SPort, f.DPort, f.L4Proto = sf.SIP, sf.DIP, sf.SPort, sf.DPort, sf.L4Proto
			if sf.L4Proto == scap.L4TCP {
				f.Flags |= FDConnected
			}
			f.Name = ipv6Tuple(f.SIP, f.SPort, f.DIP, f.DPort)
		}
	case scap.FDIPv6ServSock:
		f.SIP, f.SPort, f.L4Proto = sf.SIP, sf.SPort, sf.L4Proto
		f.Name = ipv6Addr(f.SIP, f.SPort)
		s.ServerPorts[f.SPort] = struct{}{}
	case scap.FDUnixSock:
		f.Source, f.Dest = sf.Source, sf.Dest
		f.Name = sf.Name
		if f.Name == "" {
			f.Flags |= FDRoleClient
		} else {
			f.Flags |= FDRoleServer
		}
	case scap.FDFileV2:
		f.OpenFlags = sf.Flags
		f.Name = sf.Name
		f.Dev = sf.Dev
	default:
		f.Name = sf.Name
	}
	t.fds.put(sf.Num, f)
}

// newThread returns a placeholder for a thread that the tables do not know,
// as libsinsp builds one for a capture file.
func (s *State) newThread(tid int64) *Thread {
	t := &Thread{
		s: s, fds: newFDTable(), Tid: tid, Pid: tid, Ptid: -1, Sid: -1, Vpgid: -1,
		Comm: "<NA>", Exe: "<NA>", UID: 0xffffffff, GID: 0xffffffff, LoginUID: 0xffffffff,
		Vtid: -1, Vpid: -1, FDLimit: -1,
		NChilds: s.countThreadsOf(tid),
	}
	s.addThread(t)
	return t
}

// lookup returns thread tid, creating a placeholder if create is set.
func (s *State) lookup(tid int64, create bool) *Thread {
	c := &s.tcache[uint64(tid)%threadCacheSize]
	if t := *c; t != nil && t.Tid == tid {
		return t
	}
	m := &s.tmiss[uint64(tid)%missCacheSize]
	if *m == tid && tid != noTid {
		if !create {
			return nil
		}
		return s.newThread(tid)
	}
	if t := s.threads[tid]; t != nil {
		*c = t
		return t
	}
	if !create {
		*m = tid
		return nil
	}
	return s.newThread(tid)
}

// User returns the user uid, or nil.
func (s *State) User(uid uint32) *User { return s.Users[uid] }

// Group returns the group gid, or nil.
func (s *State) Group(gid uint32) *Group { return s.Groups[gid] }

// Snapshot returns the current tables in capture-file form, for a writer.
func (s *State) Snapshot() *scap.Metadata {
	m := &scap.Metadata{Major: 1, Minor: 2, Machine: s.Machine, Interfaces: s.Interfaces}
	for _, u := range s.Users {
		m.Users = append(m.Users, scap.User{UID: u.UID, GID: u.GID, Name: u.Name, HomeDir: u.HomeDir, Shell: u.Shell})
	}
	for _, g := range s.Groups {
		m.Groups = append(m.Groups, scap.Group{GID: g.GID, Name: g.Name})
	}
	sort.Slice(m.Users, func(i, j int) bool { return m.Users[i].UID < m.Users[j].UID })
	sort.Slice(m.Groups, func(i, j int) bool { return m.Groups[i].GID < m.Groups[j].GID })
	tids := make([]int64, 0, len(s.threads))
	for tid := range s.threads {
		tids = append(tids, tid)
	}
	sort.Slice(tids, func(i, j int) bool { return tids[i] < tids[j] })
	for _, tid := range tids {
		t := s.threads[tid]
		st := scap.Thread{
			Tid: t.Tid, Pid: t.Pid, Ptid: t.Ptid, Sid: t.Sid, Vpgid: t.Vpgid,
			Comm: t.Comm, Exe: t.Exe, ExePath: t.ExePath, Args: t.Args, Cwd: t.cwd,
			FDLimit: t.FDLimit, Flags: t.Flags &^ (CloneActive | CloneNameChanged | CloneClosed), UID: t.UID, GID: t.GID,
			VMSizeKB: t.VMSizeKB, VMRSSKB: t.VMRSSKB, VMSwapKB: t.VMSwapKB, PFMajor: t.PFMajor, PFMinor: t.PFMinor,
			Env: t.Env, Vtid: t.Vtid, Vpid: t.Vpid, Cgroups: t.Cgroups, Root: t.Root,
			LoginUID: t.LoginUID, HasLoginUID: true, ExeWritable: t.ExeWritable,
		}
		if t.fds != nil && (t.Flags&CloneFiles == 0 || t.IsMain()) {
			nums := make([]int64, 0, len(t.fds.m))
			for n := range t.fds.m {
				nums = append(nums, n)
			}
			sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
			for _, n := range nums {
				f := t.fds.m[n]
				sf := scap.FD{Num: n, Ino: f.Ino, Type: f.Type, Name: f.Name, SIP: f.SIP, DIP: f.DIP,
					SPort: f.SPort, DPort: f.DPort, L4Proto: f.L4Proto, Source: f.Source, Dest: f.Dest, Flags: f.OpenFlags, Dev: f.Dev}
				if sf.Type == scap.FDFile {
					sf.Type = scap.FDFileV2
				}
				st.FDs = append(st.FDs, sf)
			}
		}
		m.Threads = append(m.Threads, st)
	}
	return m
}
