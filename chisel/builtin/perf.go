package builtin

import (
	"slices"
	"strings"

	"github.com/syscope/syscope/chisel"
	"github.com/syscope/syscope/state"
)

// Performance chisels: slow calls, process run times, I/O counters.

// slower is fileslower, netlower and scallslower: the calls that took more
// than min_ms milliseconds, one line each.
type slower struct {
	base
	kind    string // "file", "net" or "scall"
	filter  string
	minMS   float64
	colorOn bool
	col     colors
	pc      bool
	// evt.type, evt.dir, evt.datetime, fd.name, proc.name, evt.latency,
	// container.name, container.id (no fd.name for scallslower).
	etype, dir, datetime, fname, pname, latency, cname, cid *chisel.FieldReader
	sc                                                      scratch
	line                                                    []byte
}

func (s *slower) SetArg(name, value string) error {
	switch {
	case name == "disable_color" && value == "disable_color":
		s.colorOn = false
	case name == "min_ms":
		v, err := numericArg(s.out(), value, name)
		if err != nil {
			return err
		}
		s.minMS = v
	}
	return nil
}

// Column layouts of the slower chisels' headers and lines.
var (
	ioHeader     = []string{"evt.datetime", "proc.name", "evt.type", "LATENCY(ms)", "fd.name"}
	ioDashes     = []string{"-----------------------", "------------", "--------", "------------", "-----------------------------------------"}
	ioHeaderPC   = []string{"evt.datetime", "container.id", "container.name", "proc.name", "evt.type", "LATENCY(ms)", "fd.name"}
	ioDashesPC   = []string{"-----------------------", "------------------------------", "------------------------------", "------------", "--------", "------------", "-----------------------------------------"}
	scHeader     = []string{"evt.datetime", "proc.name", "LATENCY(ms)", "evt.type"}
	scDashes     = []string{"-----------------------", "-----------------------", "--------------------", "--------------------"}
	scHeaderPC   = []string{"evt.datetime", "container.id", "container.name", "proc.name", "LATENCY(ms)", "evt.type"}
	scDashesPC   = []string{"-----------------------", "--------------------", "--------------------", "-----------------------", "--------------------", "--------------------"}
	ioLayout     = [][2]int{{23, 23}, {12, 12}, {8, -1}, {12, -1}, {0, -1}}
	ioLayoutPC   = [][2]int{{23, 23}, {20, 20}, {20, 20}, {12, 12}, {8, -1}, {12, -1}, {0, -1}}
	scLayout     = [][2]int{{23, 23}, {23, 23}, {20, -1}, {0, -1}}
	scLayoutPC   = [][2]int{{23, 23}, {20, 20}, {20, 20}, {23, 23}, {20, -1}, {0, -1}}
	scLayoutPCHd = "  " // the -pc header of scallslower has two spaces after container.id
)

// appendRow appends cols laid out as "%-W.Ps" separated by spaces.
func appendRow(b []byte, cols []string, layout [][2]int, seps ...string) []byte {
	for i, c := range cols {
		if i > 0 {
			if i < len(seps)+1 && seps[i-1] != "" {
				b = append(b, seps[i-1]...)
			} else {
				b = append(b, ' ')
			}
		}
		b = appendStrS(b, c, layout[i][0], layout[i][1])
	}
	return append(b, '\n')
}

func (s *slower) Init(c *chisel.Control) error {
	s.col = newColors(s.colorOn)
	names := []string{"evt.type", "evt.dir", "evt.datetime", "fd.name", "proc.name", "evt.latency", "container.name", "container.id"}
	if s.kind == "scall" {
		names = slices.Delete(names, 3, 4)
	}
	rs, err := s.readers(names...)
	if err != nil {
		return err
	}
	if s.kind == "scall" {
		s.etype, s.dir, s.datetime, s.pname, s.latency, s.cname, s.cid = rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6]
	} else {
		s.etype, s.dir, s.datetime, s.fname, s.pname, s.latency, s.cname, s.cid = rs[0], rs[1], rs[2], rs[3], rs[4], rs[5], rs[6], rs[7]
	}
	s.pc = c.Host.PrintContainer
	if s.filter != "" {
		if err := c.SetFilter(s.filter); err != nil {
			return err
		}
	}
	var b []byte
	switch {
	case s.kind == "scall" && s.pc:
		b = appendRow(b, scHeaderPC, scLayoutPC, "", scLayoutPCHd)
		b = appendRow(b, scDashesPC, scLayoutPC)
	case s.kind == "scall":
		b = appendRow(b, scHeader, scLayout)
		b = appendRow(b, scDashes, scLayout)
	case s.pc:
		b = appendRow(b, ioHeaderPC, ioLayoutPC)
		b = appendRow(b, ioDashesPC, ioLayoutPC)
	default:
		b = appendRow(b, ioHeader, ioLayout)
		b = appendRow(b, ioDashes, ioLayout)
	}
	return write(c, b)
}

func (s *slower) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	color := s.col.green
	latV := s.latency.Read(cx, e)
	if s.kind == "scall" {
		if latV.Kind == chisel.ValueNone {
			return false, nil
		}
	}
	if !latV.IsNumber() {
		return false, s.fail("on_event: attempt to perform arithmetic on a %s value", luaType(latV))
	}
	lat := latV.Num / 1000000
	var fn chisel.Value
	if s.kind != "scall" {
		fn = s.fname.Read(cx, e)
		if dir := s.dir.Read(cx, e); dir.Kind != chisel.ValueString || string(dir.Str) != "<" {
			return true, nil
		}
	}
	if !(lat > s.minMS) {
		return s.kind != "scall", nil
	}
	if s.kind == "file" {
		if fn.Kind == chisel.ValueNone {
			return false, s.fail("on_event: bad argument #1 to 'sub' (string expected, got nil)")
		}
		s.sc.tmp = fn.Append(s.sc.tmp[:0])
		if strings.HasPrefix(string(s.sc.tmp), "/dev/") {
			return true, nil
		}
	}
	if cn := s.cname.Read(cx, e); cn.Kind != chisel.ValueString || string(cn.Str) != "host" {
		color = s.col.blue
	}
	b := append(s.line[:0], color...)
	b = s.sc.val(b, s.datetime.Read(cx, e), 23, 23)
	b = append(b, ' ')
	if s.pc {
		b = s.sc.val(b, s.cid.Read(cx, e), 20, 20)
		b = append(b, ' ')
		b = s.sc.val(b, s.cname.Read(cx, e), 20, 20)
		b = append(b, ' ')
	}
	if s.kind == "scall" {
		b = s.sc.val(b, s.pname.Read(cx, e), 23, 23)
		b = append(b, ' ')
		b = s.sc.val(b, chisel.Value{Kind: chisel.ValueFloat, Num: lat}, 20, -1)
		b = append(b, ' ')
		b = s.sc.val(b, s.etype.Read(cx, e), 0, -1)
	} else {
		b = s.sc.val(b, s.pname.Read(cx, e), 12, 12)
		b = append(b, ' ')
		b = s.sc.val(b, s.etype.Read(cx, e), 8, -1)
		b = append(b, ' ')
		b = appendDW(b, lat, 12)
		b = append(b, ' ')
		b = appendLuaString(b, fn)
	}
	b = append(b, '\n')
	s.line = b
	return s.kind != "scall", write(c, b)
}

// procExecTime is proc_exec_time: each process that exits, with how long
// it ran, coloured by that time.
type procExecTime struct {
	base
	colorOn                          bool
	col                              colors
	pc                               bool
	duration, name, args, cname, cid *chisel.FieldReader
	sc                               scratch
	line                             []byte
}

func (p *procExecTime) SetArg(name, value string) error {
	if value == "disable_colors" {
		p.colorOn = false
	}
	return nil
}

func (p *procExecTime) Init(c *chisel.Control) error {
	p.col = newColors(p.colorOn)
	rs, err := p.readers("evt.type", "proc.name", "proc.args", "evt.time.s", "proc.duration", "container.name", "container.id")
	if err != nil {
		return err
	}
	p.name, p.args, p.duration, p.cname, p.cid = rs[1], rs[2], rs[4], rs[5], rs[6]
	p.pc = c.Host.PrintContainer
	if err := c.SetFilter("evt.type=procexit"); err != nil {
		return err
	}
	var b []byte
	if p.pc {
		l := [][2]int{{13, 13}, {20, 20}, {20, 20}, {12, 12}, {0, -1}}
		b = appendRow(b, []string{"proc.duration", "container.id", "container.name", "proc.name", "proc.args"}, l)
		b = appendRow(b, []string{"-------------", "--------------------", "--------------------", "------------", "--------------------"}, l)
	} else {
		l := [][2]int{{13, 13}, {12, 12}, {0, -1}}
		b = appendRow(b, []string{"proc.duration", "proc.name", "proc.args"}, l)
		b = appendRow(b, []string{"-------------", "------------", "--------------------"}, l)
	}
	return write(c, b)
}

func (p *procExecTime) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	d := p.duration.Read(cx, e)
	if d.Kind == chisel.ValueNone {
		return true, nil
	}
	if !d.IsNumber() {
		return false, p.fail("on_event: attempt to compare number with %s", luaType(d))
	}
	color := p.col.green
	switch {
	case d.Num > 10e9:
		color = p.col.red
	case d.Num > 3e9:
		color = p.col.yellow
	default:
		if cn := p.cname.Read(cx, e); cn.Kind != chisel.ValueString || string(cn.Str) != "host" {
			color = p.col.blue
		}
	}
	b := append(p.line[:0], color...)
	p.sc.tmp = appendTimeInterval(p.sc.tmp[:0], d.Num)
	b = appendStr(b, p.sc.tmp, 13, 13)
	b = append(b, ' ')
	if p.pc {
		b = p.sc.val(b, p.cid.Read(cx, e), 20, 20)
		b = append(b, ' ')
		b = p.sc.val(b, p.cname.Read(cx, e), 20, 20)
		b = append(b, ' ')
	}
	b = p.sc.val(b, p.name.Read(cx, e), 12, 12)
	b = append(b, ' ')
	b = appendLuaString(b, p.args.Read(cx, e))
	b = append(b, '\n')
	p.line = b
	return true, write(c, b)
}

func (p *procExecTime) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	return p.col.end(c)
}

// bottlenecks keeps the 10 slowest system calls, each with the enter event
// of its thread before it.
type bottlenecks struct {
	base
	num, etype, args, latency, pname, tid *chisel.FieldReader
	last                                  map[float64]*[]byte // the last enter line of each thread
	slow                                  []slowCall
	line                                  []byte
}

type slowCall struct {
	latency     float64
	enter, exit string
	hasEnter    bool
}

const slowestCalls = 10

func (x *bottlenecks) Init(c *chisel.Control) error {
	rs, err := x.readers("evt.num", "evt.time", "evt.type", "evt.args", "evt.latency", "proc.name", "thread.tid")
	if err != nil {
		return err
	}
	x.num, x.etype, x.args, x.latency, x.pname, x.tid = rs[0], rs[2], rs[3], rs[4], rs[5], rs[6]
	x.last = make(map[float64]*[]byte)
	return nil
}

// appendCallLine appends "NUM) S.NNNNNNNNN PROC (TID) DIR TYPE ARGS".
func (x *bottlenecks) appendCallLine(b []byte, c *chisel.Control, e *state.Event, lat float64, dir byte, etype chisel.Value) ([]byte, error) {
	cx := ctx(c)
	num := x.num.Read(cx, e)
	if !num.IsNumber() {
		return b, x.fail("on_event: bad argument #2 to 'format' (number expected, got %s)", luaType(num))
	}
	b = appendD(b, num.Num)
	b = append(b, ") "...)
	b = appendD(b, lat/1e9)
	b = append(b, '.')
	var tmp [24]byte
	ns := appendD(tmp[:0], luaMod(lat, 1e9))
	for n := len(ns); n < 9; n++ {
		b = append(b, '0')
	}
	b = append(b, ns...)
	b = append(b, ' ')
	if pn := x.pname.Read(cx, e); pn.Kind != chisel.ValueNone {
		b = pn.Append(b)
	}
	b = append(b, " ("...)
	tid := x.tid.Read(cx, e)
	if !tid.IsNumber() {
		return b, x.fail("on_event: bad argument #5 to 'format' (number expected, got %s)", luaType(tid))
	}
	b = appendD(b, tid.Num)
	b = append(b, ") "...)
	b = append(b, dir, ' ')
	b = appendLuaString(b, etype)
	b = append(b, ' ')
	return appendLuaString(b, x.args.Read(cx, e)), nil
}

func (x *bottlenecks) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	lat := x.latency.Read(cx, e)
	tid := x.tid.Read(cx, e)
	etype := x.etype.Read(cx, e)
	if etype.Kind == chisel.ValueString && string(etype.Str) == "switch" {
		return true, nil
	}
	switch {
	case lat.IsNumber() && lat.Num == 0:
		if !tid.IsNumber() {
			return false, x.fail("on_event: table index is nil")
		}
		p := x.last[tid.Num]
		if p == nil {
			p = new([]byte)
			x.last[tid.Num] = p
		}
		var err error
		*p, err = x.appendCallLine((*p)[:0], c, e, 0, '>', etype)
		return true, err
	case lat.Kind == chisel.ValueNone:
		return true, nil
	}
	if !lat.IsNumber() {
		return false, x.fail("on_event: attempt to compare %s with number", luaType(lat))
	}
	for j := 0; j < slowestCalls; j++ {
		if j < len(x.slow) && !(lat.Num > x.slow[j].latency) {
			continue
		}
		var err error
		if x.line, err = x.appendCallLine(x.line[:0], c, e, lat.Num, '<', etype); err != nil {
			return false, err
		}
		sc := slowCall{latency: lat.Num, exit: string(x.line)}
		if tid.IsNumber() {
			if p := x.last[tid.Num]; p != nil {
				sc.enter, sc.hasEnter = string(*p), true
			}
		}
		x.slow = slices.Insert(x.slow, j, sc)
		break
	}
	if len(x.slow) > slowestCalls {
		x.slow = x.slow[:slowestCalls]
	}
	return true, nil
}

func (x *bottlenecks) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	var b []byte
	for _, s := range x.slow {
		if s.hasEnter {
			b = append(b, s.enter...)
		} else {
			b = append(b, "nil"...)
		}
		b = append(b, '\n')
		b = append(b, s.exit...)
		b = append(b, '\n')
	}
	return write(c, b)
}

// ioBytes is iobytes, iobytes_file and iobytes_net: the bytes read and
// written each second.
type ioBytes struct {
	base
	filter              string
	bytes, time, isRead *chisel.FieldReader
	tot, in, out        float64
	line                []byte
}

func (x *ioBytes) Init(c *chisel.Control) error {
	rs, err := x.readers("evt.rawarg.res", "evt.time.s", "evt.is_io_read")
	if err != nil {
		return err
	}
	x.bytes, x.time, x.isRead = rs[0], rs[1], rs[2]
	if err := c.SetFilter(x.filter); err != nil {
		return err
	}
	c.SetInterval(1e9)
	return nil
}

func (x *ioBytes) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	v := x.bytes.Read(cx, e)
	isRead := x.isRead.Read(cx, e)
	if v.Kind == chisel.ValueNone {
		return true, nil
	}
	if !v.IsNumber() {
		return false, x.fail("on_event: attempt to compare number with %s", luaType(v))
	}
	if v.Num > 0 {
		x.tot += v.Num
		if truthy(isRead) {
			x.in += v.Num
		} else {
			x.out += v.Num
		}
	}
	return true, nil
}

func (x *ioBytes) Interval(c *chisel.Control, ts uint64, delta int64) error {
	e := c.Event()
	if e == nil {
		return x.fail("on_interval: there is no event")
	}
	t := x.time.Read(ctx(c), e)
	if t.Kind == chisel.ValueNone {
		return x.fail("on_interval: attempt to concatenate global 'etime' (a nil value)")
	}
	b := t.Append(x.line[:0])
	b = append(b, " in:"...)
	b = chisel.AppendNumber(b, x.in)
	b = append(b, " out:"...)
	b = chisel.AppendNumber(b, x.out)
	b = append(b, " tot:"...)
	b = chisel.AppendNumber(b, x.tot)
	b = append(b, '\n')
	x.line = b
	x.tot, x.in, x.out = 0, 0, 0
	return write(c, b)
}

// fdCountBy is fdcount_by: how many distinct fds (number and name) each
// key had, over all events.
type fdCountBy struct {
	base
	keyName           string
	key, fdnum, fname *chisel.FieldReader
	keys              map[string]*fdKey
	buf, fdk          []byte
}

type fdKey struct {
	fds   map[string]struct{}
	count float64
}

func (x *fdCountBy) SetArg(name, value string) error {
	if name != "key" {
		return x.base.SetArg(name, value)
	}
	x.keyName = value
	return nil
}

func (x *fdCountBy) Init(c *chisel.Control) error {
	rs, err := x.readers(x.keyName, "fd.num", "fd.name")
	if err != nil {
		return err
	}
	x.key, x.fdnum, x.fname = rs[0], rs[1], rs[2]
	x.keys = make(map[string]*fdKey)
	return nil
}

func (x *fdCountBy) Event(c *chisel.Control, e *state.Event) (bool, error) {
	cx := ctx(c)
	key := x.key.Read(cx, e)
	num := x.fdnum.Read(cx, e)
	name := x.fname.Read(cx, e)
	if key.Kind == chisel.ValueNone || num.Kind == chisel.ValueNone || name.Kind == chisel.ValueNone {
		return true, nil
	}
	if !num.IsNumber() {
		return false, x.fail("on_event: attempt to compare number with %s", luaType(num))
	}
	if !(num.Num > 0) || name.Kind == chisel.ValueString && len(name.Str) == 0 {
		return true, nil
	}
	x.buf = key.Append(x.buf[:0])
	k := x.keys[string(x.buf)]
	if k == nil {
		k = &fdKey{fds: make(map[string]struct{})}
		x.keys[string(x.buf)] = k
	}
	x.fdk = chisel.AppendNumber(x.fdk[:0], num.Num)
	x.fdk = name.Append(x.fdk)
	if _, ok := k.fds[string(x.fdk)]; !ok {
		k.fds[string(x.fdk)] = struct{}{}
		k.count++
	}
	return true, nil
}

func (x *fdCountBy) CaptureEnd(c *chisel.Control, ts uint64, delta int64) error {
	names := make([]string, 0, len(x.keys))
	for k := range x.keys {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		ca, cb := x.keys[a].count, x.keys[b].count
		switch {
		case ca > cb:
			return -1
		case ca < cb:
			return 1
		}
		return strings.Compare(a, b)
	})
	var b []byte
	for _, n := range names {
		b = append(b, n...)
		b = append(b, '\t')
		b = chisel.AppendNumber(b, x.keys[n].count)
		b = append(b, '\n')
	}
	return write(c, b)
}

func init() {
	minArgs := func(what string) []chisel.Arg {
		return []chisel.Arg{
			{Name: "min_ms", Type: "int", Desc: "the shortest duration, in milliseconds, of the " + what + " to show"},
			{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_color' to print without colours"},
		}
	}
	const colorNote = " Lines are green for the host and blue for containers; with -pc or -pcontainer they also show the container."
	register(chisel.Desc{Name: "fileslower", Category: "Performance", ShortDesc: "File I/O slower than a threshold",
		Description: "Prints the reads and writes on files (those under /dev left out) that took longer than the given number of milliseconds; 0 prints them all." + colorNote,
		Args:        minArgs("file I/O calls"),
	}, func(d *chisel.Desc) chisel.Program {
		return &slower{base: base{desc: d}, kind: "file", filter: "evt.is_io=true and fd.type=file", colorOn: true}
	})
	register(chisel.Desc{Name: "netlower", Category: "Performance", ShortDesc: "Network I/O slower than a threshold",
		Description: "Prints the reads and writes on IPv4 and IPv6 sockets that took longer than the given number of milliseconds; 0 prints them all." + colorNote,
		Args:        minArgs("network I/O calls"),
	}, func(d *chisel.Desc) chisel.Program {
		return &slower{base: base{desc: d}, kind: "net", filter: "evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6)", colorOn: true}
	})
	register(chisel.Desc{Name: "scallslower", Category: "Performance", ShortDesc: "System calls slower than a threshold",
		Description: "Prints the system calls that took longer than the given number of milliseconds." + colorNote,
		Args:        minArgs("system calls"),
	}, func(d *chisel.Desc) chisel.Program {
		return &slower{base: base{desc: d}, kind: "scall", colorOn: true}
	})
	register(chisel.Desc{Name: "proc_exec_time", Category: "Performance", ShortDesc: "How long processes ran",
		Description: "Prints each process that exits with how long it ran: red above 10 seconds, yellow above 3, otherwise green for the host and blue for containers. With -pc or -pcontainer the lines also show the container.",
		Args:        []chisel.Arg{{Name: "disable_color", Type: "string", Optional: true, Desc: "'disable_colors' to print without colours"}},
	}, func(d *chisel.Desc) chisel.Program { return &procExecTime{base: base{desc: d}, colorOn: true} })
	register(chisel.Desc{Name: "bottlenecks", Category: "Performance", ShortDesc: "The slowest system calls",
		Description: "Prints the 10 system calls that took the longest to return, each after the enter event of its thread.",
	}, func(d *chisel.Desc) chisel.Program { return &bottlenecks{base: base{desc: d}} })
	register(chisel.Desc{Name: "iobytes", Category: "I/O", ShortDesc: "Bytes read and written on any fd",
		Description: "Prints every second the bytes read, written and both from and to any kind of fd: files, sockets, pipes...",
	}, func(d *chisel.Desc) chisel.Program { return &ioBytes{base: base{desc: d}, filter: "evt.is_io=true"} })
	register(chisel.Desc{Name: "iobytes_file", Category: "I/O", ShortDesc: "Bytes read and written on files",
		Description: "Prints every second the bytes read, written and both from and to files.",
	}, func(d *chisel.Desc) chisel.Program {
		return &ioBytes{base: base{desc: d}, filter: "evt.is_io=true and fd.type=file"}
	})
	register(chisel.Desc{Name: "iobytes_net", Category: "Net", ShortDesc: "Bytes read and written on the network",
		Description: "Prints every second the bytes read, written and both on IPv4 and IPv6 sockets.",
	}, func(d *chisel.Desc) chisel.Program {
		return &ioBytes{base: base{desc: d}, filter: "evt.is_io=true and (fd.type=ipv4 or fd.type=ipv6)"}
	})
	register(chisel.Desc{Name: "fdcount_by", Category: "I/O", ShortDesc: "Open fds counted by any field",
		Description: "Counts the distinct fds (by number and name) seen for each value of the given field, e.g. the connections of each process, and prints the counts, largest first.",
		Args:        []chisel.Arg{{Name: "key", Type: "string", Desc: "the field to group by"}},
	}, func(d *chisel.Desc) chisel.Program { return &fdCountBy{base: base{desc: d}} })
}
