package builtin

import (
	"strconv"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/filter"
	"github.com/syscope/syscope/state"
)

// System state chisels: the processes, fds, connections and containers
// the state engine knows once the first event is read (lsof, netstat, ps,
// lscontainers).

// snapshot is a chisel that ends the capture at its first event and prints
// the state then.
type snapshot struct {
	base
	kind      string // lsof, netstat, ps
	filter    string
	hasFilter bool
	started   bool
	matched   bool
}

func (s *snapshot) SetArg(name, value string) error {
	if name != "filter" {
		return s.base.SetArg(name, value)
	}
	s.filter, s.hasFilter = value, true
	if s.kind == "netstat" {
		s.filter = netstatFilter + "and (" + value + ")"
	}
	return nil
}

const netstatFilter = "(fd.type=ipv4 or fd.type=ipv6)"

func (s *snapshot) CaptureStart(c *chisel.Control) error {
	s.started = true
	return nil
}

func (s *snapshot) Event(c *chisel.Control, e *state.Event) (bool, error) {
	c.EndCapture()
	s.matched = true
	return false, nil
}

// threads returns the threads of get_thread_table(filter).
func (s *snapshot) threads(c *chisel.Control) ([]chisel.ThreadEntry, error) {
	var flt *filter.Filter
	if s.filter != "" {
		f, err := filter.Compile(s.filter)
		if err != nil {
			return nil, s.fail("on_capture_end: invalid filter argument for get_thread_table in chisel %s: %v", s.desc.Name, err)
		}
		flt = f
	}
	return c.Host.Threads(flt, true), nil
}

func (s *snapshot) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	if !s.started {
		return nil
	}
	if !s.matched {
		return write(c, []byte("empty capture or no event matching the filter\n"))
	}
	ths, err := s.threads(c)
	if err != nil {
		return err
	}
	st := c.Host.State
	var b []byte
	u32 := func(b []byte, v int64) []byte { return strconv.AppendUint(b, uint64(uint32(v)), 10) }
	var tmp []byte
	switch s.kind {
	case "lsof":
		b = appendExtendString(b, "COMMAND", 20)
		b = appendExtendString(b, "PID", 8)
		b = appendExtendString(b, "TID", 8)
		b = appendExtendString(b, "USER", 8)
		b = appendExtendString(b, "FD", 8)
		b = appendExtendString(b, "TYPE", 12)
		b = append(b, "NAME\n"...)
		for _, te := range ths {
			t := te.Thread
			for _, fd := range te.FDs {
				b = appendExtendString(b, t.Comm, 20)
				b = appendExtend(b, u32(tmp[:0], t.Pid), 8)
				b = appendExtend(b, u32(tmp[:0], t.Tid), 8)
				b = appendExtendString(b, chisel.UserName(st, t), 8)
				b = appendExtend(b, u32(tmp[:0], fd.Num), 8)
				b = appendExtendString(b, fd.FD.TypeName(), 12)
				b = append(b, chisel.FDName(fd.FD)...)
				b = append(b, '\n')
			}
		}
	case "netstat":
		b = appendExtendString(b, "Proto", 6)
		b = appendExtendString(b, "Server Address", 25)
		b = appendExtendString(b, "Client Address", 25)
		b = appendExtendString(b, "State", 15)
		b = append(b, "TID/PID/Program Name\n"...)
		for _, te := range ths {
			t := te.Thread
			for _, fd := range te.FDs {
				ep, ok := chisel.SocketEndpoints(fd.FD)
				if !ok {
					return s.fail("on_capture_end: attempt to concatenate field 'sip' (a nil value)")
				}
				cip, cport, stat := ep.CIP, strconv.Itoa(int(ep.CPort)), "ESTABLISHED"
				if !ep.HasClient {
					cip, cport, stat = "0.0.0.0", "*", "LISTEN"
				}
				b = appendExtendString(b, ep.L4Proto, 6)
				b = appendExtendString(b, ep.SIP+":"+strconv.Itoa(int(ep.SPort)), 25)
				b = appendExtendString(b, cip+":"+cport, 25)
				b = appendExtendString(b, stat, 15)
				b = u32(b, t.Tid)
				b = append(b, '/')
				b = u32(b, t.Pid)
				b = append(b, '/')
				b = append(b, t.Comm...)
				b = append(b, '\n')
			}
		}
	case "ps":
		b = appendExtendString(b, "TID", 8)
		b = appendExtendString(b, "PID", 8)
		b = appendExtendString(b, "USER", 12)
		b = appendExtendString(b, "VIRT", 11)
		b = appendExtendString(b, "RES", 11)
		b = appendExtendString(b, "FDLIMIT", 10)
		b = appendExtendString(b, "CMD", 20)
		b = append(b, '\n')
		for _, te := range ths {
			t := te.Thread
			b = appendExtend(b, u32(tmp[:0], t.Tid), 8)
			b = appendExtend(b, u32(tmp[:0], t.Pid), 8)
			b = appendExtendString(b, chisel.UserName(st, t), 12)
			b = appendExtend(b, appendBytes(tmp[:0], float64(t.VMSizeKB)*1024), 11)
			b = appendExtend(b, appendBytes(tmp[:0], float64(t.VMRSSKB)*1024), 11)
			b = appendExtend(b, u32(tmp[:0], t.FDLimit), 10)
			b = append(b, t.Comm...)
			b = append(b, '\n')
		}
	}
	return write(c, b)
}

// lsContainers is lscontainers: the containers known once the first event
// is read, as a table, or with the argument desc as a Lua structure.
type lsContainers struct {
	base
	desc    bool
	started bool
}

func (l *lsContainers) SetArg(name, value string) error {
	if name == "desc" && value == "desc" {
		l.desc = true
		return nil
	}
	return l.fail("on_set_arg(%q, %q) failed (returned false)", name, value)
}

func (l *lsContainers) CaptureStart(c *chisel.Control) error {
	l.started = true
	return nil
}

func (l *lsContainers) Event(c *chisel.Control, e *state.Event) (bool, error) {
	c.EndCapture()
	return true, nil
}

func (l *lsContainers) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	if !l.started {
		return nil
	}
	cs := c.Host.Containers()
	var b []byte
	if l.desc {
		// common.lua's st(): a table of tables, one line per value.
		b = append(b, "{\n"...)
		for i, ct := range cs {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, " = {\n"...)
			for _, kv := range [][2]string{{"id", ct.ID}, {"name", ct.Name}, {"image", ct.Image}, {"type", chisel.ContainerTypeName(ct.Type)}} {
				b = append(b, "  "...)
				b = append(b, kv[0]...)
				b = append(b, " = "...)
				b = appendQuotedLua(b, kv[1])
				b = append(b, ",\n"...)
			}
			b = append(b, " },\n"...)
		}
		b = append(b, "}\n"...)
		return write(c, b)
	}
	b = appendExtendString(b, "container.type", 15)
	b = appendExtendString(b, "container.image", 16)
	b = appendExtendString(b, "container.name", 20)
	b = appendExtendString(b, "container.id", 13)
	b = append(b, '\n')
	b = appendExtendString(b, "---------------", 15)
	b = appendExtendString(b, "----------------", 16)
	b = appendExtendString(b, "--------------------", 20)
	b = appendExtendString(b, "-------------", 13)
	b = append(b, '\n')
	for _, ct := range cs {
		b = appendExtendString(b, chisel.ContainerTypeName(ct.Type), 15)
		b = appendExtendString(b, ct.Image, 16)
		b = appendExtendString(b, ct.Name, 20)
		b = appendExtendString(b, ct.ID, 13)
		b = append(b, '\n')
	}
	return write(c, b)
}

// appendQuotedLua is string.format("%q", s) as LuaJIT writes it.
func appendQuotedLua(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n':
			b = append(b, '\\', c)
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == 0 || c < 32 || c == 127:
			b = append(b, '\\')
			if i+1 < len(s) && isDigit(s[i+1]) {
				b = append(b, '0'+c/100, '0'+c/10%10, '0'+c%10)
			} else {
				b = strconv.AppendInt(b, int64(c), 10)
			}
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func init() {
	filterArg := func(desc string) []chisel.Arg {
		return []chisel.Arg{{Name: "filter", Type: "filter", Optional: true, Desc: desc}}
	}
	const when = " It shows the state when the first event (that passes the filter) is read."
	register(chisel.Desc{Name: "lsof", Category: "System State", ShortDesc: "Open file descriptors, optionally filtered.",
		Description: "Prints the open fds of every thread, as lsof does: command, pid, tid, user, fd number, type and name." + when,
		Args:        filterArg("a filter on the fds to list, e.g. 'proc.name=nginx and fd.type=ipv4'"),
	}, func(d *chisel.Desc) chisel.Program { return &snapshot{base: base{desc: d}, kind: "lsof"} })
	register(chisel.Desc{Name: "netstat", Category: "System State", ShortDesc: "Network connections, optionally filtered.",
		Description: "Prints the IPv4 and IPv6 sockets of every thread, as netstat does: protocol, server and client addresses, state and the thread, process and command." + when,
		Args:        filterArg("a filter on the sockets to list, e.g. 'fd.port=443'"),
	}, func(d *chisel.Desc) chisel.Program {
		return &snapshot{base: base{desc: d}, kind: "netstat", filter: netstatFilter}
	})
	register(chisel.Desc{Name: "ps", Category: "System State", ShortDesc: "Processes, optionally filtered.",
		Description: "Prints the threads of the machine, as ps does: tid, pid, user, virtual and resident memory, fd limit and command." + when,
		Args:        filterArg("a filter on the fds of the threads to list, e.g. 'fd.name contains /var/log'"),
	}, func(d *chisel.Desc) chisel.Program { return &snapshot{base: base{desc: d}, kind: "ps"} })
	register(chisel.Desc{Name: "lscontainers", Category: "System State", ShortDesc: "The containers",
		Description: "Prints the containers known when the first event is read: type, image, name and id.",
		Args:        []chisel.Arg{{Name: "desc", Type: "string", Optional: true, Desc: "'desc' to print them as a Lua structure"}},
	}, func(d *chisel.Desc) chisel.Program { return &lsContainers{base: base{desc: d}} })
}
