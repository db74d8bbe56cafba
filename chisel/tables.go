package chisel

import (
	"slices"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/syscope/syscope/event"
	"github.com/syscope/syscope/filter"
	"github.com/syscope/syscope/scap"
	"github.com/syscope/syscope/state"
)

// ThreadEntry is a thread of the state engine with the fds that
// sysdig.get_thread_table lists for it.
type ThreadEntry struct {
	Thread *state.Thread
	FDs    []FDEntry // by fd number
}

// FDEntry is an fd of a thread.
type FDEntry struct {
	Num int64
	FD  *state.FD
}

// Threads returns the threads of the state engine by tid, each with its fds
// by fd number (none unless withFDs), as sysdig.get_thread_table(filter)
// sees them. With a filter (flt not nil), only the threads that have an fd it
// accepts are listed, with only those fds; the filter sees each fd as a read
// on it by the thread. sysdig lists them in hash order.
func (h *Host) Threads(flt *filter.Filter, withFDs bool) []ThreadEntry {
	st := h.State
	if st == nil {
		return nil
	}
	var threads []*state.Thread
	st.EachThread(func(t *state.Thread) { threads = append(threads, t) })
	slices.SortFunc(threads, func(a, b *state.Thread) int { return cmpInt(a.Tid, b.Tid) })

	// The event a filter sees: a read exit on the fd, at the last event's time.
	raw := scap.Event{Type: event.SyscallReadX, Ts: st.LastEventTS}
	ev := state.Event{Event: &raw, Info: event.SyscallReadX.Info()}
	matches := func(t *state.Thread, num int64, f *state.FD) (ok bool) {
		raw.Tid = t.Tid
		ev.Thread, ev.TInfo, ev.FD = t, t, f
		saved := t.LastEventFD
		t.LastEventFD = num
		defer func() {
			t.LastEventFD = saved
			if recover() != nil {
				ok = false
			}
		}()
		return flt.Match(h.Ctx, &ev)
	}
	var out []ThreadEntry
	var fds []FDEntry
	for _, t := range threads {
		fds = fds[:0]
		if tf := t.FDs(); tf != nil {
			tf.Each(func(n int64, f *state.FD) { fds = append(fds, FDEntry{n, f}) })
		}
		slices.SortFunc(fds, func(a, b FDEntry) int { return cmpInt(a.Num, b.Num) })
		if flt != nil && !slices.ContainsFunc(fds, func(x FDEntry) bool { return matches(t, x.Num, x.FD) }) {
			continue
		}
		e := ThreadEntry{Thread: t}
		if withFDs {
			for _, x := range fds {
				if flt == nil || matches(t, x.Num, x.FD) {
					e.FDs = append(e.FDs, x)
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// UserName is the name of a thread's user as get_thread_table gives it:
// "<NA>" when unknown.
func UserName(st *state.State, t *state.Thread) string {
	if t.UID != 0xffffffff {
		if u := st.User(t.UID); u != nil {
			return u.Name
		}
	}
	return "<NA>"
}

// FDName is an fd's name as get_thread_table gives it: without the
// characters that are not printable.
func FDName(f *state.FD) string {
	name := make([]byte, 0, len(f.Name))
	for i := 0; i < len(f.Name); i++ {
		if state.IsPrint(f.Name[i]) {
			name = append(name, f.Name[i])
		}
	}
	return string(name)
}

// Endpoints is an IP socket's ends as get_thread_table gives them; the
// client end is unset for a server socket.
type Endpoints struct {
	L4Proto   string // tcp, udp, icmp, raw or <NA>
	SIP, CIP  string
	SPort     uint16
	CPort     uint16
	HasClient bool
	IsServer  bool
}

// SocketEndpoints returns the ends of an IP socket; ok is false for other fds.
func SocketEndpoints(f *state.FD) (ep Endpoints, ok bool) {
	var v6 bool
	switch f.Type {
	case scap.FDIPv4Sock, scap.FDIPv4ServSock:
	case scap.FDIPv6Sock, scap.FDIPv6ServSock:
		v6 = true
	default:
		return ep, false
	}
	ip := func(a *[16]byte) string {
		if v6 {
			return string(state.AppendIPv6(nil, a[:]))
		}
		return string(state.AppendIPv4(nil, a[:4]))
	}
	if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock {
		// libsinsp's naming: the source end is the client.
		ep.CIP, ep.CPort, ep.HasClient = ip(&f.SIP), f.SPort, true
		ep.SIP, ep.SPort = ip(&f.DIP), f.DPort
		ep.IsServer = f.Flags&state.FDRoleServer != 0
	} else {
		ep.SIP, ep.SPort, ep.IsServer = ip(&f.SIP), f.SPort, true
	}
	ep.L4Proto = "<NA>"
	switch f.L4Proto {
	case scap.L4TCP:
		ep.L4Proto = "tcp"
	case scap.L4UDP:
		ep.L4Proto = "udp"
	case scap.L4ICMP:
		ep.L4Proto = "icmp"
	case scap.L4Raw:
		ep.L4Proto = "raw"
	}
	return ep, true
}

// threadTable is sysdig.get_thread_table(filter) and its variants: the
// threads of Threads keyed by tid, each with its fd table keyed by fd
// number, in libsinsp's shape.
func (p *luaProgram) threadTable(L *lua.LState, withFDs, barebone bool) int {
	h := p.host()
	var flt *filter.Filter
	if s, ok := luaString(L.Get(1)); ok && s != "" {
		f, err := filter.Compile(s)
		if err != nil {
			L.RaiseError("invalid filter argument for get_thread_table in chisel %s: %v", p.desc.Name, err)
		}
		flt = f
	}
	tab := L.NewTable()
	st := h.State
	if st == nil {
		L.Push(tab)
		return 1
	}
	for _, te := range h.Threads(flt, withFDs) {
		t := te.Thread
		tt := L.NewTable()
		tt.RawSetString("tid", lua.LNumber(uint32(t.Tid)))
		tt.RawSetString("pid", lua.LNumber(uint32(t.Pid)))
		if !barebone {
			tt.RawSetString("ptid", lua.LNumber(uint32(t.Ptid)))
			tt.RawSetString("comm", lua.LString(t.Comm))
			tt.RawSetString("exe", lua.LString(t.Exe))
			tt.RawSetString("flags", lua.LNumber(t.Flags))
			tt.RawSetString("fdlimit", lua.LNumber(uint32(t.FDLimit)))
			tt.RawSetString("uid", lua.LNumber(t.UID))
			tt.RawSetString("gid", lua.LNumber(t.GID))
			tt.RawSetString("nchilds", lua.LNumber(uint32(t.NChilds)))
			tt.RawSetString("vmsize_kb", lua.LNumber(t.VMSizeKB))
			tt.RawSetString("vmrss_kb", lua.LNumber(t.VMRSSKB))
			tt.RawSetString("vmswap_kb", lua.LNumber(t.VMSwapKB))
			tt.RawSetString("pfmajor", lua.LNumber(uint32(t.PFMajor)))
			tt.RawSetString("pfminor", lua.LNumber(uint32(t.PFMinor)))
			tt.RawSetString("clone_ts", lua.LString(strconv.FormatUint(t.CloneTS, 10)))
			tt.RawSetString("username", lua.LString(UserName(st, t)))
			tt.RawSetString("args", stringList(L, t.Args))
			env := t.Env
			if len(env) == 0 && !t.IsMain() {
				if m := t.Main(); m != nil {
					env = m.Env
				}
			}
			tt.RawSetString("env", stringList(L, env))
		}
		ft := L.NewTable()
		for _, x := range te.FDs {
			ft.RawSetInt(int(uint32(x.Num)), fdTable(L, x.FD, barebone))
		}
		tt.RawSetString("fdtable", ft)
		tab.RawSetInt(int(uint32(t.Tid)), tt)
	}
	L.Push(tab)
	return 1
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func stringList(L *lua.LState, ss []string) *lua.LTable {
	t := L.CreateTable(len(ss), 0)
	for i, s := range ss {
		t.RawSetInt(i+1, lua.LString(s))
	}
	return t
}

// fdTable is an fd as get_thread_table shows it.
func fdTable(L *lua.LState, f *state.FD, barebone bool) *lua.LTable {
	t := L.NewTable()
	if !barebone {
		t.RawSetString("name", lua.LString(FDName(f)))
		t.RawSetString("type", lua.LString(f.TypeName()))
	}
	ep, ok := SocketEndpoints(f)
	if !ok {
		return t
	}
	if ep.HasClient {
		t.RawSetString("cip", lua.LString(ep.CIP))
		t.RawSetString("cport", lua.LNumber(ep.CPort))
	}
	t.RawSetString("sip", lua.LString(ep.SIP))
	t.RawSetString("sport", lua.LNumber(ep.SPort))
	t.RawSetString("is_server", lua.LBool(ep.IsServer))
	t.RawSetString("l4proto", lua.LString(ep.L4Proto))
	return t
}

// Containers returns the containers of the state engine by id (sysdig.
// get_container_table lists them in hash order).
func (h *Host) Containers() []*state.Container {
	st := h.State
	if st == nil || st.Containers == nil {
		return nil
	}
	var cs []*state.Container
	st.Containers.Each(func(c *state.Container) { cs = append(cs, c) })
	slices.SortFunc(cs, func(a, b *state.Container) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return cs
}

// containerTable is sysdig.get_container_table(): the containers, numbered
// from 1 (sysdig in hash order, we by id).
func (p *luaProgram) containerTable(L *lua.LState) int {
	tab := L.NewTable()
	for i, c := range p.host().Containers() {
		t := L.NewTable()
		t.RawSetString("id", lua.LString(c.ID))
		t.RawSetString("name", lua.LString(c.Name))
		t.RawSetString("image", lua.LString(c.Image))
		t.RawSetString("type", lua.LString(ContainerTypeName(c.Type)))
		tab.RawSetInt(i+1, t)
	}
	L.Push(tab)
	return 1
}

// ContainerTypeName is a container's type as the chisel API names it.
func ContainerTypeName(t state.ContainerType) string {
	switch t {
	case state.ContainerTypeDocker, state.ContainerTypeUnknown:
		return "docker"
	case state.ContainerTypeLXC:
		return "lxc"
	case state.ContainerTypeLibvirtLXC:
		return "libvirt_lxc"
	case state.ContainerTypeMesos:
		return "mesos"
	case state.ContainerTypeRkt:
		return "rkt"
	case state.ContainerTypeCRI:
		return "cri"
	case state.ContainerTypeContainerd:
		return "containerd"
	case state.ContainerTypeCRIO:
		return "cri-o"
	case state.ContainerTypeBPM:
		return "bpm"
	}
	return "unknown"
}
