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

// threadTable is sysdig.get_thread_table(filter) and its variants: the
// threads of the state engine keyed by tid, each with its fd table keyed by
// fd number, in libsinsp's shape. With a filter, only the threads that have
// an fd it accepts are listed, with only those fds; the filter sees each fd
// as a read on it by the thread. sysdig lists them in hash order; we list
// them by tid and fd number.
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
	type fdEntry struct {
		num int64
		fd  *state.FD
	}
	var fds []fdEntry
	for _, t := range threads {
		fds = fds[:0]
		if tf := t.FDs(); tf != nil {
			tf.Each(func(n int64, f *state.FD) { fds = append(fds, fdEntry{n, f}) })
		}
		slices.SortFunc(fds, func(a, b fdEntry) int { return cmpInt(a.num, b.num) })
		if flt != nil && !slices.ContainsFunc(fds, func(x fdEntry) bool { return matches(t, x.num, x.fd) }) {
			continue
		}
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
			user := "<NA>"
			if t.UID != 0xffffffff {
				if u := st.User(t.UID); u != nil {
					user = u.Name
				}
			}
			tt.RawSetString("username", lua.LString(user))
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
		if withFDs {
			for _, x := range fds {
				if flt != nil && !matches(t, x.num, x.fd) {
					continue
				}
				ft.RawSetInt(int(uint32(x.num)), fdTable(L, x.fd, barebone))
			}
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
		name := make([]byte, 0, len(f.Name))
		for i := 0; i < len(f.Name); i++ {
			if state.IsPrint(f.Name[i]) {
				name = append(name, f.Name[i])
			}
		}
		t.RawSetString("name", lua.LString(name))
		t.RawSetString("type", lua.LString(f.TypeName()))
	}
	var v6 bool
	switch f.Type {
	case scap.FDIPv4Sock, scap.FDIPv4ServSock:
	case scap.FDIPv6Sock, scap.FDIPv6ServSock:
		v6 = true
	default:
		return t
	}
	ip := func(a *[16]byte) lua.LString {
		if v6 {
			return lua.LString(state.AppendIPv6(nil, a[:]))
		}
		return lua.LString(state.AppendIPv4(nil, a[:4]))
	}
	if f.Type == scap.FDIPv4Sock || f.Type == scap.FDIPv6Sock {
		// libsinsp's naming: the source end is the client.
		t.RawSetString("cip", ip(&f.SIP))
		t.RawSetString("sip", ip(&f.DIP))
		t.RawSetString("cport", lua.LNumber(f.SPort))
		t.RawSetString("sport", lua.LNumber(f.DPort))
		t.RawSetString("is_server", lua.LBool(f.Flags&state.FDRoleServer != 0))
	} else {
		t.RawSetString("sip", ip(&f.SIP))
		t.RawSetString("sport", lua.LNumber(f.SPort))
		t.RawSetString("is_server", lua.LTrue)
	}
	l4 := "<NA>"
	switch f.L4Proto {
	case scap.L4TCP:
		l4 = "tcp"
	case scap.L4UDP:
		l4 = "udp"
	case scap.L4ICMP:
		l4 = "icmp"
	case scap.L4Raw:
		l4 = "raw"
	}
	t.RawSetString("l4proto", lua.LString(l4))
	return t
}

// containerTable is sysdig.get_container_table(): the containers, numbered
// from 1 (sysdig in hash order, we by id).
func (p *luaProgram) containerTable(L *lua.LState) int {
	tab := L.NewTable()
	if st := p.host().State; st != nil && st.Containers != nil {
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
		for i, c := range cs {
			t := L.NewTable()
			t.RawSetString("id", lua.LString(c.ID))
			t.RawSetString("name", lua.LString(c.Name))
			t.RawSetString("image", lua.LString(c.Image))
			t.RawSetString("type", lua.LString(containerTypeName(c.Type)))
			tab.RawSetInt(i+1, t)
		}
	}
	L.Push(tab)
	return 1
}

// containerTypeName is the type as the chisel API names it.
func containerTypeName(t state.ContainerType) string {
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
